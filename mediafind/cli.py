"""The command line's front: the argument parser, where a command runs (a running mediafind
answers it, or a session of this process), and how errors become one line and an exit code.
The commands themselves are in mediafind.commands; their docstrings are their help."""

from __future__ import annotations

import argparse
import difflib
import inspect
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediafind import __version__, commands, config
from mediafind.errors import (
    UNAVAILABLE,
    LibraryBusy,
    MediafindError,
    ModelUnavailable,
    NoLibrary,
    describe,
)

if TYPE_CHECKING:
    from mediafind.instance import Library, Remote
    from mediafind.session import Session

log = logging.getLogger("mediafind")


# A command works on this process's session, or (served) on a Library: the running instance's
# when one answers, else this process's own.
Command = (
    Callable[["Session", argparse.Namespace], int] | Callable[["Library", argparse.Namespace], int]
)


class _Parser(argparse.ArgumentParser):
    """argparse, with a suggestion for a mistyped command."""

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if isinstance(action, argparse._SubParsersAction) and choices and value not in choices:
            names = list(choices)
            near = difflib.get_close_matches(str(value), names, n=1)
            hint = (
                f"; did you mean {near[0]!r}?" if near else f" (the commands: {', '.join(names)})"
            )
            raise argparse.ArgumentError(None, f"unknown command {value!r}{hint}")
        super()._check_value(action, value)


def _global_options(
    parser: argparse.ArgumentParser, after_command: bool, model: bool = True
) -> None:
    """The options of every command, allowed before it and after it. After it (after_command),
    one not given must not replace the value given before: its default is to be absent.
    model: False for a command with a --model of its own (eval's, repeatable)."""
    absent: dict[str, Any] = {"default": argparse.SUPPRESS} if after_command else {}
    group = parser.add_argument_group("options of every command (before or after it)")
    group.add_argument(
        "--library",
        metavar="DIR",
        help=f"library folder (default: ${config.ENV_LIBRARY} or the user data folder)",
        **absent,
    )
    if model:
        group.add_argument(
            "--model",
            metavar="SPEC",
            help="a preset (fast, balanced, best, multilingual), NAME:PRETRAINED, "
            "hf-hub:ORG/REPO or local-dir:PATH",
            **absent,
        )
    group.add_argument("--device", choices=config.DEVICES, help="where the model runs", **absent)
    group.add_argument("-v", "--verbose", action="store_true", help="log what happens", **absent)
    group.add_argument(
        "--alone",
        action="store_true",
        help="do the work in this process even when a running mediafind (the window, watch) "
        f"could answer (also: {config.ENV_NO_INSTANCE}=1)",
        **absent,
    )


def _add_command(
    subparsers: argparse._SubParsersAction[_Parser], name: str, func: Command, model: bool = True
) -> argparse.ArgumentParser:
    doc = inspect.cleandoc(func.__doc__ or "")  # the docstring's indentation taken off
    parser = subparsers.add_parser(
        name,
        help=" ".join(doc.split("\n\n")[0].split()).replace("%", "%%"),  # the first paragraph
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_options(parser, after_command=True, model=model)
    parser.set_defaults(func=func)
    return parser


EXIT_CODES = """\
exit codes, the same for every command:
  0    done (files that could not be read are listed, and do not fail the run)
  1    nothing could be done: no file could be read, the library is busy (another
       mediafind writes it), damaged (`mediafind doctor`), on a full or read-only
       disk, the running mediafind went away, the window cannot open
  2    a usage or user error: a mistyped command or option, an unknown model, no
       library at --library or not a library there, a folder that does not exist or
       is not in the library, a picture in the query that is not there, the model is
       missing (the message says how to get it)
  130  interrupted (Ctrl-C); 143 stopped (TERM)"""


def build_parser() -> argparse.ArgumentParser:
    from mediafind.query import SORTS  # light: the standard library and the kinds

    parser = _Parser(
        prog="mediafind",
        description="Search your own photos and notes: type words to find photos, "
        "give a picture to find the notes about it. Without a command, opens the window.",
        epilog="example: mediafind folders add ~/Pictures && mediafind index && "
        f"mediafind search 'red bicycle'\n\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mediafind {__version__}")
    _global_options(parser, after_command=False)
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="index generated pictures and notes in a temporary library, search them and exit "
        "0 if the right results come first (uses --model, else the bundled test model)",
    )
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")

    folders = subcommands.add_parser("folders", help="add, remove or list the library's folders")
    _global_options(folders, after_command=True)
    actions = folders.add_subparsers(dest="folders_command", metavar="ACTION", required=True)
    for name, func in (("add", commands.folders_add), ("remove", commands.folders_remove)):
        _add_command(actions, name, func).add_argument("paths", nargs="+", metavar="PATH")
    actions.choices["add"].add_argument(
        "--polling",
        choices=("auto", "always", "never"),
        default="auto",
        help="look for changes by polling (auto: only on network and removable drives)",
    )
    _add_command(actions, "list", commands.folders_list)

    index = _add_command(subcommands, "index", commands.index)
    index.add_argument("paths", nargs="*", metavar="PATH", help="folders to add and index")

    _add_command(subcommands, "watch", commands.watch)

    search = _add_command(subcommands, "search", commands.search)
    search.add_argument("text", nargs="*", metavar="TEXT", help="words, filters, pictures")
    search.add_argument("--image", metavar="FILE", help="search with a picture (too)")
    search.add_argument("-n", type=_positive, default=20, metavar="N", help="results (20)")
    search.add_argument("--kind", choices=("photo", "note", "all"), help="default: all")
    search.add_argument("--sort", choices=SORTS, help="default: relevance")
    search.add_argument("--folder", metavar="DIR", help="only results inside this folder")
    search.add_argument("--json", action="store_true", help="print a JSON array, best first")
    search.add_argument("--all", action="store_true",
                        help="also the photos below the library's relevance cutoff")  # fmt: skip

    status = _add_command(subcommands, "status", commands.status)
    status.add_argument("--json", action="store_true", help="print a JSON object")

    duplicates = _add_command(subcommands, "duplicates", commands.duplicates)
    duplicates.add_argument("folders", nargs="*", metavar="FOLDER", help="only photos in these")
    duplicates.add_argument("--json", action="store_true", help="print a JSON object")

    _add_command(subcommands, "models", commands.models)
    doctor = _add_command(subcommands, "doctor", commands.doctor)
    doctor.add_argument("--repair", action="store_true", help="repair what is found")
    doctor.add_argument("--full", action="store_true", help="read every page and every vector")
    doctor.add_argument("--json", action="store_true", help="print a JSON object")
    # Several models side by side: eval's own --model, repeatable, in place of the global one.
    evaluation = _add_command(subcommands, "eval", commands.evaluate, model=False)
    evaluation.add_argument("set", nargs="?", metavar="SET", help="default: the library's")
    evaluation.add_argument(
        "--model", action="append", dest="eval_models", metavar="SPEC",
        help="a model to measure (again for each; default: the library's own)",
    )  # fmt: skip
    evaluation.add_argument("--json", action="store_true", help="print a JSON object")
    evaluation.add_argument("--apply", action="store_true", help="keep the cutoff for search")
    evaluation.add_argument("--precision", type=_precision, default=0.9, metavar="P",
                            help="the cutoff's precision (0.9)")  # fmt: skip
    evaluation.add_argument("--split", default="test", help="of a Karpathy JSON (test)")
    evaluation.add_argument("--images", metavar="DIR", help="where a Karpathy JSON's photos are")
    doc = inspect.cleandoc(_gui.__doc__ or "")
    gui = subcommands.add_parser(
        "gui",
        help="open the window (the default without a command)",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_options(gui, after_command=True)
    # The desktop entry's "Open With" (Exec=mediafind gui %f) hands a picture over this way.
    gui.add_argument("picture", nargs="?", metavar="PICTURE", help="start a search by it")
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _precision(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError("must be above 0 and at most 1, e.g. 0.9")
    return value


def _configure_logging(verbose: bool) -> None:
    """mediafind's own warnings always; other libraries' chatter (download retries, open_clip's
    messages, which our errors already sum up) only with --verbose."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "mediafind", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler()
    handler.mediafind = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if not verbose:
        handler.addFilter(lambda record: record.name.startswith("mediafind"))
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    if not verbose:
        logging.getLogger("huggingface_hub").setLevel(logging.ERROR)
    # Python warnings of other libraries (Pillow's on odd pictures, watchdog's) are log records
    # (py.warnings), shown with --verbose, rather than lines on stderr.
    logging.captureWarnings(True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    if os.name == "posix":
        # File names that are not valid UTF-8 print as the bytes they are.
        for stream in (sys.stdout, sys.stderr):
            if hasattr(stream, "reconfigure"):
                stream.reconfigure(errors="surrogateescape")
    try:
        _check_model(args)
    except MediafindError as e:
        print(f"mediafind: {e}", file=sys.stderr)
        return 2
    if args.self_test:
        return _self_test(args)
    if args.command in (None, "gui"):
        return _gui(args)
    try:
        code = _run(args)
    except BrokenPipeError:
        # Output piped into `head` or a closed pager: not an error. Silence the final flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if getattr(args, "interrupted", False) and argv is None:
        # The program itself (not a caller of main): leave now. Python's exit would wait for a
        # decode thread still busy with a large file (it joins pool threads); the library is
        # consistent already, each batch being written in one transaction or not at all.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _check_model(args: argparse.Namespace) -> None:
    """A model named on the command line (or in MEDIAFIND_MODEL) that no model can be: refused
    before any work, before a running mediafind is asked. Whether its weights can be had is
    learnt when it is loaded."""
    from mediafind.presets import PRESETS, parse_spec

    named_by = "--model" if args.model else config.ENV_MODEL
    text = args.model or os.environ.get(config.ENV_MODEL)
    if not text:
        return
    try:
        parse_spec(text)
    except ModelUnavailable as e:
        if ":" in text:
            raise  # local-dir: without a folder: its own message says what it needs
        names = [p.name for p in PRESETS]
        near = difflib.get_close_matches(text.strip(), names, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else "."
        raise ModelUnavailable(
            f"unknown model {text!r} ({named_by}){hint} The presets: {', '.join(names)}; any "
            "OpenCLIP model works as NAME:PRETRAINED (e.g. ViT-B-32:laion2b_s34b_b79k), "
            "hf-hub:ORG/REPO or local-dir:PATH; `mediafind models` describes the presets"
        ) from e


def _gui(args: argparse.Namespace) -> int:
    """Open the window: search as you type, drop a picture, folders that index themselves.
    This is what `mediafind` does without a command.

    example: mediafind --library ~/work-library gui"""
    try:
        from mediafind.gui.app import run
    except ImportError as e:
        print(f"mediafind: cannot open the window ({e}); the commands still work: "
              "mediafind --help", file=sys.stderr)  # fmt: skip
        return 1
    picture = Path(args.picture).expanduser() if getattr(args, "picture", None) else None
    if picture is not None and not picture.is_file():
        print(f"mediafind: {picture} is not a file", file=sys.stderr)
        return 2
    return run(library=args.library, model=args.model, device=args.device, verbose=args.verbose,
               picture=picture)  # fmt: skip


def _self_test(args: argparse.Namespace) -> int:
    """Check this installation end to end on generated files; never touches the library.

    example: mediafind --self-test --model local-dir:mediafind/assets/tiny-clip"""
    from mediafind import selftest

    print(f"mediafind {__version__} self-test", flush=True)

    def show(step: selftest.Step) -> None:
        print(selftest.format_step(step), flush=True)

    try:
        report = selftest.run(args.model, args.device or "auto", on_step=show)
    except MediafindError as e:
        print(f"mediafind: self-test cannot run: {e}", file=sys.stderr)
        return 2
    print(f"model {report.model} on {report.device}")
    print(f"self-test {'passed' if report.passed else 'FAILED'} in {report.seconds:.1f} s")
    return 0 if report.passed else 1


class _Terminated(KeyboardInterrupt):
    """TERM (from `kill` or a service manager), which stops a command as Ctrl-C does."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


def _run(args: argparse.Namespace) -> int:
    from mediafind.instance import InstanceError

    # Nothing could be done now, and nothing was wrong with what was asked: exit 1.
    not_now: tuple[type[Exception], ...] = (*UNAVAILABLE, InstanceError)
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if on_main_thread else None
    try:
        served = args.func in _SERVED
        if served and (running := _running_instance(args)) is not None:
            answered: int = args.func(running, args)
            return answered
        from mediafind.instance import Local
        from mediafind.session import OpenClipSource, Options, Session

        options = Options(library=args.library, model=args.model, device=args.device)
        # `watch` runs for hours: its model lives in a process of its own (modelhost.py).
        # The doctor examines a library that may not open: a session that notes it and goes on.
        tolerant = args.func is commands.doctor
        session = Session(
            options, OpenClipSource(hosted=args.func is commands.watch), tolerant=tolerant
        )
        # eval of a set of its own reads no library (unless it is to keep a cutoff there).
        apart = args.func is commands.evaluate and args.set and not args.apply
        if args.func is not commands.models and not apart:
            # `index` without folders has nothing to put in a new library: it makes none.
            creates = args.func is commands.folders_add or (
                args.func is commands.index and args.paths
            )
            existed = session.check_library(create=creates)
            args.new_library = None if existed else session.library_dir
        result: int = args.func(Local(session) if served else session, args)
        return result
    except NoLibrary as e:
        library = f"--library {args.library} " if args.library else ""
        print(f"mediafind: {e}; add a folder with `mediafind {library}folders add FOLDER` to "
              "create one", file=sys.stderr)  # fmt: skip
        return 2
    except not_now as e:
        # Busy, damaged, full, read-only, or the running mediafind went away.
        print(f"mediafind: {e}", file=sys.stderr)
        return 1
    except MediafindError as e:
        print(f"mediafind: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise  # the output's reader left (`| head`): main ends quietly, not an error
    except OSError as e:
        # The disk said no (permissions, a full disk): one line, not a traceback.
        print(f"mediafind: {describe(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        print("mediafind: interrupted", file=sys.stderr)
        args.interrupted = True
        return 128 + (signal.SIGTERM if isinstance(e, _Terminated) else signal.SIGINT)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


# What a running instance answers; the commands that need the model among them.
_SERVED = (
    commands.folders_add,
    commands.folders_remove,
    commands.folders_list,
    commands.index,
    commands.search,
    commands.status,
)
_USES_MODEL = (commands.index, commands.search)


def _running_instance(args: argparse.Namespace) -> Remote | None:
    """The running instance of the library (the window, `watch`) when it can answer this
    command as this process would; None to do the work here. A model asked for (--model,
    MEDIAFIND_MODEL) that is not the instance's: a search runs here with it, an index is
    refused (the instance holds the library)."""
    from mediafind import instance

    if args.alone or instance.disabled():
        return None
    try:
        settings = config.load_settings()
    except MediafindError:
        return None  # said by the command, run here
    wanted = args.model or os.environ.get(config.ENV_MODEL)
    running = instance.connect(config.library_dir(args.library, settings), wanted)
    if running is None or running.same_model or args.func not in _USES_MODEL:
        return running
    if args.func is commands.index:
        raise LibraryBusy(
            f"mediafind (pid {running.pid}) is running on this library with the model "
            f"{running.model}; close it to index with {wanted}"
        )
    print(
        f"mediafind: the running mediafind (pid {running.pid}) uses the model {running.model}; "
        f"searching here with {wanted}",
        file=sys.stderr,
    )
    return None
