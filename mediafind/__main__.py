import multiprocessing

from mediafind.cli import main

# The model's process (modelhost.py) is started with "spawn", which imports this module again
# in the child: only the real start runs the program. freeze_support lets a PyInstaller bundle
# start that child.
if __name__ == "__main__":
    multiprocessing.freeze_support()
    raise SystemExit(main())
