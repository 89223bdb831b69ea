from mediafind.cli import main

raise SystemExit(main())
