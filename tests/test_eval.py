"""`mediafind eval` end to end with the tiny model: sets, figures within bounds, two models side
by side, --json, and --apply as the one write, which search then honours."""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import TINY_MODEL, TINY_SPEC, run_cli

from mediafind import shapes
from mediafind.embed import OpenClipEncoder, parse_spec
from mediafind.evaluate import Cutoff
from mediafind.evaluate_rows import CUTOFFS_KEY, cutoffs, save_cutoff
from mediafind.evaluate_sets import MIN_PHOTOS, from_folder, from_karpathy
from mediafind.query import parse
from mediafind.search import PICTURE, Searcher
from mediafind.store import Store

PAIRS = [(c, s) for c in shapes.COLOURS for s in shapes.SHAPES]


def captioned_folder(root: Path, per_pair: int = 2, sidecars: bool = False) -> Path:
    """Photos of coloured shapes, two captions each: in captions.json, or one per sidecar."""
    rng = random.Random(7)
    listed: dict[str, list[str]] = {}
    root.mkdir(parents=True, exist_ok=True)
    for colour, shape in PAIRS:
        for k in range(per_pair):
            name = f"{colour} {shape} {k}.png"
            shapes.render(colour, shape, rng).save(root / name)
            listed[name] = [shapes.caption(colour, shape, rng) for _ in range(2)]
            if sidecars:
                (root / f"{name}.txt").write_text(listed[name][0])
    if not sidecars:
        (root / "captions.json").write_text(json.dumps(listed))
    return root


def figures(out: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(out)
    return data


def test_the_tiny_model_finds_each_captions_photo_and_shuffled_pairs_do_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = captioned_folder(tmp_path / "set")
    code, out, err = run_cli(capsys, "eval", str(folder), "--model", TINY_SPEC, "--json")
    assert code == 0, err
    report = figures(out)
    model = report["models"][0]  # type: ignore[index]
    with capsys.disabled():
        print("\ntiny model on 24 photos:", json.dumps(model["text_to_image"]))
    t2i, i2t = model["text_to_image"], model["image_to_text"]
    assert (report["photos"], report["pairs"]) == (24, 48)
    # Two photos of each colour and shape: the right one is first about half the time and
    # among the first five (its twin, three others) nearly always. Chance: 1/24 and 5/24.
    assert 0.35 <= t2i["R@1"]["value"] <= 0.65
    assert t2i["R@5"]["value"] >= 0.85 and i2t["R@5"]["value"] >= 0.85
    assert t2i["MRR"]["value"] >= 0.6 and i2t["mAP"]["value"] >= 0.5
    assert t2i["R@1"]["low"] <= t2i["R@1"]["value"] <= t2i["R@1"]["high"]
    assert model["images_per_second"] > 0 and model["texts_per_second"] > 0

    listed = json.loads((folder / "captions.json").read_text())
    names, said = list(listed), list(listed.values())
    random.Random(3).shuffle(said)
    (folder / "captions.json").write_text(json.dumps(dict(zip(names, said, strict=True))))
    code, out, err = run_cli(capsys, "eval", str(folder), "--model", TINY_SPEC, "--json")
    shuffled = figures(out)["models"][0]["text_to_image"]  # type: ignore[index]
    assert code == 0, err
    assert shuffled["R@5"]["value"] < 0.6 and shuffled["R@1"]["value"] < 0.3


def test_two_models_side_by_side_in_one_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = captioned_folder(tmp_path / "set")
    other = shutil.copytree(TINY_MODEL, tmp_path / "other-tiny")
    code, out, err = run_cli(
        capsys, "eval", str(folder), "--model", TINY_SPEC, "--model", f"local-dir:{other}"
    )
    assert code == 0, err
    with capsys.disabled():
        print("\n" + out)
    lines = out.splitlines()
    assert lines[0] == f"the photos of {folder / 'captions.json'}: 24 photos, 48 captions"
    header = lines[1].split()
    assert header == ["tiny-clip", "other-tiny"]
    r1 = next(line for line in lines if line.startswith("text → photo  R@1"))
    assert r1.count("(") == 2  # each model's R@1 with its interval
    assert any(line.startswith("photos/s") for line in lines)
    assert lines[-1].startswith("Suggested model: local-dir:")


def test_json_names_every_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = captioned_folder(tmp_path / "set")
    code, out, _ = run_cli(
        capsys, "eval", str(folder), "--model", TINY_SPEC, "--json", "--precision", "0.4"
    )
    report = figures(out)
    assert code == 0
    assert set(report) == {"set", "photos", "pairs", "missing", "precision", "models",
                           "suggested", "applied"}  # fmt: skip
    model = report["models"][0]  # type: ignore[index]
    assert set(model["text_to_image"]) == {"queries", "R@1", "R@5", "R@10", "MRR", "mAP"}
    assert set(model["text_to_image"]["R@1"]) == {"value", "low", "high"}
    assert model["image_to_text"]["queries"] == 24 and model["text_to_image"]["queries"] == 48
    assert model["cutoff"]["precision"] == 0.4 and model["cutoff"]["reached"] >= 0.4
    assert report["suggested"] == model["model"] and report["applied"] == []


def test_a_small_set_says_how_many_photos_it_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = captioned_folder(tmp_path / "set", per_pair=1)
    code, _, err = run_cli(capsys, "eval", str(folder), "--model", TINY_SPEC)
    assert code == 2
    assert f"has 12 captioned photos (24 caption-photo pairs); the figures need at least " \
           f"{MIN_PHOTOS} photos" in err  # fmt: skip
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_cli(capsys, "eval", str(empty), "--model", TINY_SPEC)
    assert code == 2 and "has no captioned photos to measure with" in err


def test_a_karpathy_split_with_missing_photos_leaves_them_out_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = captioned_folder(tmp_path / "images")
    listed = json.loads((folder / "captions.json").read_text())
    entries = [
        {"filename": name, "split": "test", "sentences": [{"raw": t} for t in texts]}
        for name, texts in listed.items()
    ]
    entries.append({"filename": "gone.jpg", "split": "test", "sentences": [{"raw": "a cat"}]})
    entries.append({"filename": "x.jpg", "split": "train", "sentences": [{"raw": "a dog"}]})
    karpathy = tmp_path / "dataset_flickr30k.json"
    karpathy.write_text(json.dumps({"images": entries, "dataset": "flickr30k"}))
    found = from_karpathy(karpathy, folder)
    assert (len(found.items), found.pairs, found.missing) == (24, 48, (folder / "gone.jpg",))
    code, out, err = run_cli(
        capsys, "eval", str(karpathy), "--images", str(folder), "--model", TINY_SPEC
    )
    assert code == 0, err
    assert "1 photos of the set are missing and were left out" in err and "gone.jpg" in err
    assert out.startswith("the test split of dataset_flickr30k.json: 24 photos, 48 captions")
    code, _, err = run_cli(capsys, "eval", str(karpathy), "--split", "val", "--model", TINY_SPEC)
    assert code == 2 and "no photos in the split 'val' (its splits: test, train)" in err


def library_state(path: Path) -> dict[str, object]:
    with Store.open(path) as store:
        conn = store.conn
        return {
            "files": conn.execute("SELECT * FROM files ORDER BY id").fetchall(),
            "chunks": conn.execute("SELECT * FROM chunks ORDER BY id").fetchall(),
            "meta": conn.execute(
                "SELECT * FROM meta WHERE key != ? ORDER BY key", (CUTOFFS_KEY,)
            ).fetchall(),
            "vectors": conn.execute("SELECT count(*) FROM vectors").fetchall(),
        }


def test_eval_of_the_library_writes_nothing_and_apply_writes_only_the_cutoff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = captioned_folder(tmp_path / "photos", sidecars=True)
    assert len(from_folder(photos).items) == 24
    lib = str(tmp_path / "lib")
    code, _, err = run_cli(capsys, "--library", lib, "--model", TINY_SPEC, "index", str(photos))
    assert code == 0, err
    file = Path(lib) / "library.sqlite3"
    files = sorted(Path(lib).iterdir())
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}

    code, out, err = run_cli(capsys, "--library", lib, "--model", TINY_SPEC, "eval")
    assert code == 0, err
    assert out.startswith("the library's captioned photos: 24 photos, 24 captions")
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files} == before
    assert sorted(Path(lib).iterdir()) == files

    state = library_state(file)
    code, out, err = run_cli(
        capsys, "--library", lib, "--model", TINY_SPEC, "eval", "--apply", "--precision", "0.4"
    )
    assert code == 0, err
    assert "Applied the cutoff" in out
    assert library_state(file) == state
    with Store.open(file) as store:
        kept = cutoffs(store)
        identity = store.model().identity  # type: ignore[union-attr]
    assert list(kept) == [identity] and kept[identity].precision == 0.4
    assert kept[identity].pairs == 24


def test_search_keeps_photos_above_the_calibrated_cutoff_and_show_all_lifts_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = captioned_folder(tmp_path / "photos")  # two red circles
    lib = tmp_path / "lib"
    code, _, err = run_cli(capsys, "--library", str(lib), "--model", TINY_SPEC, "index",
                           str(photos))  # fmt: skip
    assert code == 0, err
    encoder = OpenClipEncoder(parse_spec(TINY_SPEC), device="cpu")
    query = parse("a red circle").narrowed(kind="photo")
    with Store.open(lib / "library.sqlite3") as store:
        generic = Searcher(store, encoder).answer(query, 20)
        assert generic.hidden == 0  # no calibration: the generic floor
        pictures = sorted((h.similarity, h.path.name) for h in generic.hits if PICTURE in h.why)
        similarities = [s for s, _ in pictures]
        assert len(similarities) > 1
    # A cutoff between the best photo and the others: only the best stays.
    cut = (similarities[-1] + similarities[-2]) / 2
    with Store.open(lib / "library.sqlite3", writer=True) as store:
        save_cutoff(store, encoder.identity, encoder.spec, Cutoff(cut, 0.9, 0.9, 0.5), 24)
    with Store.open(lib / "library.sqlite3") as store:
        calibrated = Searcher(store, encoder).answer(query, 20)
        kept = [h.path.name for h in calibrated.hits if PICTURE in h.why]
        assert kept == [pictures[-1][1]]
        assert calibrated.hidden == len(similarities) - 1
        shown = Searcher(store, encoder, cutoff=False).answer(query, 20)
        assert [h.path for h in shown.hits] == [h.path for h in generic.hits]
    # Another model's cutoff is not this one's.
    with Store.open(lib / "library.sqlite3", writer=True) as store:
        store.conn.execute(
            "UPDATE meta SET value = ? WHERE key = ?",
            (json.dumps({"other-model": {"similarity": 0.99, "precision": 0.9, "pairs": 1,
                                         "spec": "x", "measured_at": 0}}), CUTOFFS_KEY),
        )  # fmt: skip
    with Store.open(lib / "library.sqlite3") as store:
        assert Searcher(store, encoder).answer(query, 20).hits == generic.hits


def cut_below_the_best(lib: Path, text: str) -> int:
    """A calibrated cutoff just below the best photo a query finds by what it shows: the
    photos it hides (the others found so)."""
    encoder = OpenClipEncoder(parse_spec(TINY_SPEC), device="cpu")
    query = parse(text).narrowed(kind="photo")
    with Store.open(lib / "library.sqlite3") as store:
        found = Searcher(store, encoder).answer(query, 20)
    pictures = sorted(h.similarity for h in found.hits if PICTURE in h.why)
    assert len(pictures) > 1
    cut = (pictures[-1] + pictures[-2]) / 2
    with Store.open(lib / "library.sqlite3", writer=True) as store:
        save_cutoff(store, encoder.identity, encoder.spec, Cutoff(cut, 0.9, 0.9, 0.5), 24)
    return len(pictures) - 1


def test_search_says_how_many_photos_the_cutoff_hid_and_all_shows_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lib = str(tmp_path / "lib")
    photos = captioned_folder(tmp_path / "photos")
    assert run_cli(capsys, "--library", lib, "--model", TINY_SPEC, "index", str(photos))[0] == 0
    search = ("--library", lib, "--model", TINY_SPEC, "search", "a red circle", "--kind", "photo")
    code, before, _ = run_cli(capsys, *search)
    assert code == 0 and "relevance cutoff" not in before
    hidden = cut_below_the_best(tmp_path / "lib", "a red circle")
    assert hidden == 1  # the other red circle
    said = "1 more photo below your library's relevance cutoff; --all shows them"

    code, out, _ = run_cli(capsys, *search)
    assert code == 0
    lines = out.splitlines()
    assert lines[-1] == said
    # The photo hidden by what it shows is still found by its name.
    by_picture = [sum(PICTURE in line for line in o.splitlines()) for o in (before, out)]
    assert by_picture[1] == by_picture[0] - hidden

    code, everything, _ = run_cli(capsys, *search, "--all")
    assert code == 0 and everything == before

    code, out, err = run_cli(capsys, *search, "--json")
    assert code == 0 and isinstance(json.loads(out), list)  # the array, as documented
    assert err == f"mediafind: {said}\n"
    code, out, err = run_cli(capsys, *search, "--json", "--all")
    assert code == 0 and err == ""
    assert len(json.loads(out)) == len(before.splitlines())


def test_the_running_instance_says_what_the_cutoff_hid_and_lifts_it_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mediafind.instance import Server
    from mediafind.session import Options, Session

    lib = tmp_path / "lib"
    photos = captioned_folder(tmp_path / "photos")
    assert (
        run_cli(capsys, "--library", str(lib), "--model", TINY_SPEC, "index", str(photos))[0] == 0
    )
    hidden = cut_below_the_best(lib, "a red circle")
    search = ("--library", str(lib), "--model", TINY_SPEC, "search", "a red circle", "--kind",
              "photo")  # fmt: skip
    alone = [run_cli(capsys, "--alone", *search, *more)[1] for more in ((), ("--all",))]
    runtime = Path(tempfile.mkdtemp(prefix="mf-"))  # a socket needs a short path
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("MEDIAFIND_NO_INSTANCE", raising=False)
    session = Session(Options(library=str(lib), model=TINY_SPEC, watch=False))
    session.start()
    server = Server(session)
    try:
        assert session.wait_started(30) and server.start()
        before = server.answered
        served = [run_cli(capsys, *search, *more) for more in ((), ("--all",))]
        assert server.answered == before + 4  # hello and the search, twice
    finally:
        server.stop()
        session.stop()
        shutil.rmtree(runtime, ignore_errors=True)
    assert [out for _, out, _ in served] == alone
    assert served[0][1].splitlines()[-1].startswith(f"{hidden} more photo below")
    assert "relevance cutoff" not in served[1][1]


def test_a_preset_is_on_this_computer_once_all_its_files_are_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    from huggingface_hub import constants

    from mediafind import weights

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))

    def cache(repo: str, name: str) -> None:
        folder = tmp_path / "hf" / f"models--{repo.replace('/', '--')}"
        revision = "0" * 40
        (folder / "snapshots" / revision).mkdir(parents=True, exist_ok=True)
        (folder / "refs").mkdir(exist_ok=True)
        (folder / "refs" / "main").write_text(revision)
        (folder / "snapshots" / revision / name).write_bytes(b"x")

    balanced, multilingual = parse_spec("balanced"), parse_spec("multilingual")
    assert not weights.on_this_computer(balanced)
    for spec in (balanced, multilingual):
        where = weights.hub_weights(spec)
        assert where is not None
        cache(where.repo_id, where.filenames[-1])
    assert weights.on_this_computer(balanced)
    # Its text tower comes from Hugging Face transformers: its files are needed too.
    assert not weights.on_this_computer(multilingual)
    cache("xlm-roberta-base", "config.json")
    has_transformers = importlib.util.find_spec("transformers") is not None
    assert weights.on_this_computer(multilingual) == has_transformers
    assert weights.on_this_computer(parse_spec(TINY_SPEC))
    assert not weights.on_this_computer(parse_spec(f"local-dir:{tmp_path / 'nothing'}"))
    assert not weights.on_this_computer(parse_spec("hf-hub:mediafind-tests/absent"))
