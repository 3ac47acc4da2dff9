"""The ``searchlib`` command: index files, query, look at analysis and statistics.

Exit status: 0 on success, 1 when some input was skipped, 2 on a usage or user error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import stat
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import analyzers
from searchlib import paths
from searchlib.documents import Document
from searchlib.index import LOCK_TIMEOUT_S, MEMORY_MB, Hit, Index, SearchlibError, exists
from searchlib.loading import MAX_FILE_BYTES, Skipped, load_paths
from searchlib.query import QueryError

EXIT_OK, EXIT_SKIPPED, EXIT_ERROR = 0, 1, 2
TITLE_CHARS = 100
_EM = re.compile(r"<em>(.*?)</em>")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (SearchlibError, QueryError) as error:
        print(f"searchlib: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("searchlib: interrupted; the index is at its last commit", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="searchlib", description="Multilingual full-text search.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def with_index(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--index",
            type=Path,
            default=None,
            help=f"index directory (default: ${paths.ENV_INDEX}, else {paths.default_index()})",
        )
        sub.add_argument(
            "--trust-index",
            action="store_true",
            help="open the index even if other users can write to its directory",
        )

    index = commands.add_parser("index", help="add files (.txt, .jsonl, directories) to the index")
    index.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    index.add_argument(
        "--lock-timeout",
        type=float,
        default=LOCK_TIMEOUT_S,
        metavar="SECONDS",
        help=f"how long to wait for another process writing to the index (default: {LOCK_TIMEOUT_S:g})",
    )
    index.add_argument(
        "--max-file-mb",
        type=float,
        default=MAX_FILE_BYTES / 1e6,
        metavar="MB",
        help=f"skip (and report) files larger than this (default: {MAX_FILE_BYTES / 1e6:g})",
    )
    index.add_argument(
        "--jobs",
        type=_positive,
        default=1,
        metavar="N",
        help="analyze and write in N processes (default: 1)",
    )
    index.add_argument(
        "--memory-mb",
        type=_positive,
        default=MEMORY_MB,
        metavar="MB",
        help=f"postings held in memory before spilling to disk, shared by the jobs (default: {MEMORY_MB})",
    )
    index.add_argument(
        "--dask",
        default=None,
        metavar="ADDRESS",
        help="analyze and write on the workers of this Dask scheduler (tcp://host:8786); "
        "the index must be on storage they share",
    )
    index.add_argument(
        "--partitions",
        type=_positive,
        default=None,
        metavar="N",
        help="with --dask: split the documents into N tasks (default: one per worker)",
    )
    with_index(index)
    index.set_defaults(run=run_index)

    query = commands.add_parser("query", help="search the index")
    query.add_argument("text", metavar="TEXT")
    query.add_argument("--limit", type=_positive, default=10, metavar="N")
    query.add_argument("--lang", default=None, metavar="L", help="the query's language, if known")
    query.add_argument("--json", action="store_true", help="print a JSON array of hits")
    query.add_argument(
        "--no-cross-script",
        action="store_true",
        help="do not match names written in other scripts (АСЕАН ~ ASEAN ~ آسيان)",
    )
    with_index(query)
    query.set_defaults(run=run_query)

    analyze = commands.add_parser("analyze", help="show the terms an analyzer makes of TEXT")
    analyze.add_argument("text", metavar="TEXT")
    analyze.add_argument("--lang", default=None, metavar="L", help="default: detected")
    analyze.add_argument("--json", action="store_true")
    analyze.set_defaults(run=run_analyze)

    stats = commands.add_parser("stats", help="documents per language, terms, size on disk")
    stats.add_argument("--json", action="store_true")
    with_index(stats)
    stats.set_defaults(run=run_stats)
    return parser


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1, not {value!r}")
    return number


# -- commands ----------------------------------------------------------------------


def run_index(args: argparse.Namespace) -> int:
    path = _index_path(args)
    started = time.perf_counter()
    skipped: list[Skipped] = []
    documents = _documents(load_paths(args.paths, max_bytes=int(args.max_file_mb * 1e6)), skipped)
    with _dask_client(args.dask) as client, Index.open(path) if exists(path) else Index.create(path) as index:
        index.lock_timeout = args.lock_timeout
        index.memory_mb = args.memory_mb
        if client is not None:
            from searchlib import distributed

            result = distributed.add(index, _progress(documents), client, args.partitions)
        else:
            result = index.add(_progress(documents), jobs=args.jobs)
    for problem in skipped:
        print(f"skipped {problem}", file=sys.stderr)
    languages = ", ".join(f"{lang} {n}" for lang, n in sorted(result.languages.items()))
    print(
        f"{path}: {result.added} added, {result.replaced} replaced, {result.unchanged} unchanged, "
        f"{len(skipped)} skipped"
        + (f", {result.duplicates} duplicate ids (the last one kept)" if result.duplicates else "")
        + (f" ({languages})" if languages else "")
        + f" in {time.perf_counter() - started:.1f} s"
    )
    return EXIT_SKIPPED if skipped else EXIT_OK


def _dask_client(address: str | None) -> contextlib.AbstractContextManager:
    if address is None:
        return contextlib.nullcontext()
    from searchlib import distributed

    return distributed.connect(address)


def run_query(args: argparse.Namespace) -> int:
    index = _open_for_reading(args)
    with index:
        hits = index.search(
            args.text, limit=args.limit, lang=args.lang, cross_script=not args.no_cross_script
        )
    if args.json:
        fields = ("id", "score", "title", "lang", "snippet")
        print(json.dumps([{f: getattr(h, f) for f in fields} for h in hits], ensure_ascii=False))
    else:
        _print_hits(hits)
    return EXIT_OK


def run_analyze(args: argparse.Namespace) -> int:
    lang = args.lang or analyzers.detect_language(args.text)
    tokens = analyzers.analyze(args.text, lang)
    rows = [
        {"term": t.term, "position": t.position, "start": t.start, "end": t.end,
         "word": args.text[t.start : t.end]}
        for t in tokens
    ]  # fmt: skip
    if args.json:
        print(json.dumps({"lang": lang, "tokens": rows}, ensure_ascii=False))
        return EXIT_OK
    print(f"language: {lang} (analyzer: {analyzers.canonical(lang)})")
    for row in rows:
        print(f"{row['position']:>4}  {row['start']:>5}-{row['end']:<5}  {row['word']}  →  {row['term']}")
    return EXIT_OK


def run_stats(args: argparse.Namespace) -> int:
    with Index.open(_index_path(args)) as index:
        figures = index.stats()
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return EXIT_OK
    print(f"index:     {figures['path']}")
    print(f"documents: {figures['documents']}")
    for lang, count in sorted(figures["languages"].items()):
        print(f"  {lang}: {count}")
    print(f"terms:     {figures['terms']}")
    print(f"size:      {figures['size_bytes'] / 1e6:.2f} MB")
    return EXIT_OK


# -- helpers -----------------------------------------------------------------------


def _open_for_reading(args: argparse.Namespace) -> Index:
    """The index to query; the default one is first built from the bundled seeds."""
    path = _index_path(args)
    if args.index is None and not exists(path):
        seeds = paths.seeds_dir()
        print(
            f"searchlib: no index at {path} yet; indexing the bundled seeds ({seeds})",
            file=sys.stderr,
        )
        with Index.create(path) as index:
            index.add(d for d in load_paths([seeds]) if isinstance(d, Document))
    return Index.open(path)


def _index_path(args: argparse.Namespace) -> Path:
    """``--index``, else the default; refused if other users could have written it."""
    path = args.index or paths.default_index()
    _check_trusted(path, args.trust_index)
    return path


def _check_trusted(path: Path, trusted: bool) -> None:
    """Refuse an index directory other users can write to: opening it unpickles its contents."""
    if trusted or not path.exists():
        return
    mode = path.stat().st_mode
    others_write = mode & stat.S_IWOTH or (mode & stat.S_IWGRP and path.stat().st_gid != os.getgid())
    if others_write and not mode & stat.S_ISVTX:
        raise SearchlibError(
            f"{path}: other users can write to this index directory, and opening an index "
            "runs code stored in it; fix its permissions or pass --trust-index"
        )


def _documents(items: Iterable[Document | Skipped], skipped: list[Skipped]) -> Iterator[Document]:
    for item in items:
        if isinstance(item, Skipped):
            skipped.append(item)
        else:
            yield item


def _progress(documents: Iterator[Document]) -> Iterable[Document]:
    if not sys.stderr.isatty():
        return documents
    from tqdm import tqdm

    return tqdm(documents, desc="reading", unit=" docs", file=sys.stderr, leave=False)


def _print_hits(hits: list[Hit]) -> None:
    if not hits:
        print("no documents found")
        return
    bold = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("**", "**")
    for rank, hit in enumerate(hits, start=1):
        title = hit.title if len(hit.title) <= TITLE_CHARS else hit.title[: TITLE_CHARS - 1] + "…"
        print(f"{rank}. {title}")
        print(f"   {hit.id}  lang={hit.lang}  score={hit.score:.3f}")
        print("   " + _plain(hit.snippet, *bold))
        print()


def _plain(snippet: str, start: str, end: str) -> str:
    import html

    return html.unescape(_EM.sub(lambda m: f"{start}{m.group(1)}{end}", snippet))


if __name__ == "__main__":
    sys.exit(main())
