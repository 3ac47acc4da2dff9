"""The ``searchlib`` command: index files, query, look at analysis and statistics.

Exit status, as grep's: 0 on success, 1 when a query found nothing or some input was
skipped, 2 on a usage or user error.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import re
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path, PurePosixPath

import attrs

import analyzers
from searchlib import checking, fields, filters, output, paths
from searchlib.building import AddResult, content_digest
from searchlib.documents import Document
from searchlib.fields import Field
from searchlib.index import LOCK_TIMEOUT_S, MEMORY_MB, Index, Results, SearchlibError, exists
from searchlib.loading import MAX_FILE_BYTES, TEXT_SUFFIXES, Skipped, Unrecognized, load_paths, load_stream
from searchlib.page import LANGUAGE_NAMES
from searchlib.query import QueryError

EXIT_OK, EXIT_SKIPPED, EXIT_ERROR = 0, 1, 2
EXIT_NOTHING_FOUND = EXIT_DAMAGED = 1
QUERY_TIMEOUT_S = 10.0
COMMIT_EVERY = 20_000  # documents per commit of `searchlib index`
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
TITLE_CHARS = 100
_EM = re.compile(r"<em>(.*?)</em>")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(_descending_sorts(sys.argv[1:] if argv is None else argv))
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
    except OSError as error:  # permission denied, a read-only file system, too many open files
        where = f"{error.filename}: " if error.filename else ""
        print(f"searchlib: {where}{error.strerror or error}", file=sys.stderr)
        return EXIT_ERROR


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="searchlib", description="Multilingual full-text search.")
    parser.add_argument("--version", action="version", version=f"searchlib {paths.version()}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def with_index(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--index",
            type=_index_dir,
            default=None,
            help=f"index directory (default: ${paths.ENV_INDEX}, else {paths.default_index()})",
        )
        sub.add_argument(
            "--trust-index",
            action="store_true",
            help="open the index even if other users can write to its directory",
        )

    index = commands.add_parser("index", help="add files (.txt, .jsonl, directories) to the index")
    index.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="files and directories; - reads standard input"
    )
    index.add_argument(
        "--format",
        choices=["jsonl", "text"],
        default="jsonl",
        help="what standard input (-) holds: JSONL documents (default) or one text document",
    )
    index.add_argument(
        "--hidden", action="store_true", help="also index hidden files and directories (.name)"
    )
    index.add_argument(
        "--commit-every",
        type=_commit_size,
        default=CommitSize(documents=COMMIT_EVERY),
        metavar="N|NMB",
        help=f"commit after every N documents, or every N MB of text (64MB), so an interrupted "
        f"run keeps them and a re-run goes on from there (0: one commit at the end; "
        f"default: {COMMIT_EVERY} documents)",
    )
    index.add_argument(
        "--lock-timeout",
        type=_non_negative_float,
        default=LOCK_TIMEOUT_S,
        metavar="SECONDS",
        help=f"how long to wait for another process writing to the index (default: {LOCK_TIMEOUT_S:g})",
    )
    index.add_argument(
        "--max-file-mb",
        type=_positive_float,
        default=MAX_FILE_BYTES / 1e6,
        metavar="MB",
        help=f"skip (and report) files larger than this (default: {MAX_FILE_BYTES / 1e6:g})",
    )
    index.add_argument(
        "--jobs",
        type=_positive,
        default=None,
        metavar="N",
        help="analyze and write in N processes (default: 1 for a small input, else one per core, up to 4)",
    )
    index.add_argument(
        "--memory-mb",
        type=_positive,
        default=MEMORY_MB,
        metavar="MB",
        help=f"postings held in memory before spilling to disk, shared by the jobs (default: {MEMORY_MB})",
    )
    index.add_argument(
        "--field",
        action="append",
        type=_field_argument,
        default=[],
        metavar="NAME:KIND",
        help="declare a field that JSON keys of this name fill: NAME:text (^BOOST), keyword, "
        "keyword+ (several values), int, float, date, bool or stored; keywords can be counted "
        "(--facet) and numbers and dates sorted on (--sort). Repeat for more fields",
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
    index.add_argument(
        "--dask-timeout",
        type=_positive_float,
        default=10.0,
        metavar="SECONDS",
        help="with --dask: how long to try to reach the scheduler (default: 10)",
    )
    with_index(index)
    index.set_defaults(run=run_index)

    query = commands.add_parser("query", help="search the index")
    query.add_argument("text", nargs="+", metavar="TEXT", help="the query; several words are joined")
    query.add_argument("--limit", type=_positive, default=10, metavar="N")
    query.add_argument(
        "--lang", type=_language, default=None, metavar="L", help="the query's language, if known"
    )
    query.add_argument("--json", action="store_true", help='print a JSON object: {"total", "hits", "facets"}')
    query.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="only documents whose FIELD is VALUE (tags=visa; lang=ru), in LOW..HIGH "
        "(price=1..10, date=2024-01..; either end open); a FIELD given twice: any of its values",
    )
    query.add_argument(
        "--sort",
        action="append",
        default=None,
        metavar="[-]FIELD",
        help="order by FIELD (date, title, a sortable field; -FIELD: descending) instead of relevance; "
        "repeat for ties",
    )
    query.add_argument(
        "--offset", type=_non_negative_int, default=0, metavar="N", help="skip the first N hits (paging)"
    )
    query.add_argument(
        "--facet",
        action="append",
        default=None,
        metavar="FIELD",
        help="count the values of FIELD (lang, source, a keyword) over all matching documents",
    )
    query.add_argument(
        "--timeout",
        type=_positive_float,
        default=QUERY_TIMEOUT_S,
        metavar="SECONDS",
        help=f"give up on a query that takes longer (default: {QUERY_TIMEOUT_S:g})",
    )
    query.add_argument(
        "--color",
        choices=["auto", "always", "never"],
        default="auto",
        help="mark matches in bold: on a terminal (auto, unless $NO_COLOR is set), always, never",
    )
    query.add_argument(
        "--no-cross-script",
        action="store_true",
        help="do not match names written in other scripts (АСЕАН ~ ASEAN ~ آسيان)",
    )
    with_index(query)
    query.set_defaults(run=run_query)

    analyze = commands.add_parser("analyze", help="show the terms an analyzer makes of TEXT")
    analyze.add_argument("text", nargs="+", metavar="TEXT")
    analyze.add_argument("--lang", type=_language, default=None, metavar="L", help="default: detected")
    analyze.add_argument("--json", action="store_true")
    analyze.set_defaults(run=run_analyze)

    stats = commands.add_parser("stats", help="documents per language, terms, size on disk")
    stats.add_argument("--json", action="store_true")
    with_index(stats)
    stats.set_defaults(run=run_stats)

    delete = commands.add_parser("delete", help="delete documents by id")
    delete.add_argument("ids", nargs="+", metavar="ID")
    with_index(delete)
    delete.set_defaults(run=run_delete)

    optimize = commands.add_parser("optimize", help="merge the index's segments into one")
    with_index(optimize)
    optimize.set_defaults(run=run_optimize)

    serve = commands.add_parser(
        "serve", help="serve a JSON API and a search page (the serve extra: pip install 'searchlib[serve]')"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)"
    )
    serve.add_argument(
        "--port", type=_port, default=8080, help="port to listen on (default: 8080; 0: any free one)"
    )
    serve.add_argument(
        "--write-token",
        default=os.environ.get("SEARCHLIB_WRITE_TOKEN") or None,
        metavar="TOKEN",
        help="allow POST and DELETE with 'Authorization: Bearer TOKEN' (default: $SEARCHLIB_WRITE_TOKEN; "
        "none: read-only)",
    )
    serve.add_argument(
        "--max-body-mb",
        type=_positive_float,
        default=64.0,
        metavar="MB",
        help="largest request body (default: 64)",
    )
    with_index(serve)
    serve.set_defaults(run=run_serve)

    check = commands.add_parser(
        "check", help="verify every file of the index against its checksums (exit 0 intact, 1 damaged)"
    )
    check.add_argument(
        "--repair",
        action="store_true",
        help="if damaged, roll back to the last intact commit and say what was lost",
    )
    with_index(check)
    check.set_defaults(run=run_check)
    return parser


def _index_dir(value: str) -> Path:
    if not value.strip():
        raise argparse.ArgumentTypeError("must name a directory, not an empty string")
    return Path(value)


def _language(value: str) -> str:
    from searchlib.documents import to_language

    try:
        return to_language(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _at_least(convert: Callable[[str], float], low: float, inclusive: bool = True) -> Callable[[str], float]:
    """An argparse type: a finite number (``convert``: int or float) ≥ ``low``, or > it."""
    kind = "whole number" if convert is int else "number"
    relation = "≥" if inclusive else ">"

    def parse(value: str) -> float:
        try:
            number = convert(value)
        except ValueError:
            number = None
        if number is None or not math.isfinite(number) or not (number >= low if inclusive else number > low):
            raise argparse.ArgumentTypeError(f"must be a {kind} {relation} {low:g}, not {value!r}")
        return number

    return parse


@attrs.frozen
class CommitSize:
    """How much ``searchlib index`` adds per commit: documents, or megabytes of text."""

    documents: int = 0
    megabytes: float = 0.0

    def batch(self, documents: Iterator[Document]) -> Iterator[Document]:
        """The next batch of ``documents``: up to this size (all of them if 0)."""
        if self.documents:
            yield from itertools.islice(documents, self.documents)
            return
        left = self.megabytes * 1e6 if self.megabytes else math.inf
        for document in documents:
            yield document
            left -= len(document.title) + len(document.body)
            if left <= 0:
                return


def _commit_size(value: str) -> CommitSize:
    text = value.strip().lower().replace(" ", "")
    if text.endswith("mb"):
        return CommitSize(megabytes=_positive_float(text[:-2]))
    return CommitSize(documents=_non_negative_int(text))


_positive = _at_least(int, 1)


def _port(value: str) -> int:
    port = _non_negative_int(value)
    if port > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, not {value!r}")
    return int(port)


_non_negative_int = _at_least(int, 0)
_positive_float = _at_least(float, 0, inclusive=False)
_non_negative_float = _at_least(float, 0)


# -- commands ----------------------------------------------------------------------


def run_index(args: argparse.Namespace) -> int:
    path = _index_path(args)
    missing = [str(p) for p in args.paths if str(p) != "-" and not p.exists() and not p.is_symlink()]
    if missing:  # before any index is created
        raise SearchlibError(f"{missing[0]}: no such file or directory")
    started = time.perf_counter()
    skipped: list[Skipped] = []
    legacy: dict[str, str] = {}  # the id searchlib 0.1 gave a file → its content digest
    unrecognized: list[Unrecognized] = []
    with (
        _dask_client(args.dask, args.dask_timeout) as client,
        _index_with_fields(path, dict(args.field)) as index,
    ):
        items = _load(args, index.fields)
        documents = _remember_legacy_ids(_documents(items, skipped, unrecognized), legacy, index)
        index.lock_timeout = args.lock_timeout
        index.memory_mb = args.memory_mb
        if client is not None:
            from searchlib import distributed

            result = distributed.add(index, _counted(documents, _progress_bar()), client, args.partitions)
        else:
            result = _add_in_commits(index, documents, args.jobs, args.commit_every)
        stale = index.delete_copies(legacy)
    for problem in skipped:
        print(f"skipped {problem}", file=sys.stderr)
    for notice in unrecognized:
        print(f"searchlib: {notice} (declare them with --field NAME:KIND)", file=sys.stderr)
    languages = ", ".join(f"{lang} {n}" for lang, n in sorted(result.languages.items()))
    print(
        f"{path}: {result.added} added, {result.replaced} replaced, {result.unchanged} unchanged, "
        f"{len(skipped)} skipped"
        + (f", {result.duplicates} duplicate ids (the last one kept)" if result.duplicates else "")
        + (f", {len(stale)} copies under searchlib 0.1 file ids removed" if stale else "")
        + (f" ({languages})" if languages else "")
        + f" in {time.perf_counter() - started:.1f} s"
    )
    return EXIT_SKIPPED if skipped else EXIT_OK


def _add_in_commits(
    index: Index, documents: Iterator[Document], jobs: int | None, every: CommitSize
) -> AddResult:
    """Add ``documents`` in commits of ``every``, streaming: a batch is never held whole.
    The progress bar shows documents read and committed."""
    bar = _progress_bar()
    read = _counted(documents, bar)
    total = AddResult(0, 0, 0, {})
    while (first := next(read, None)) is not None:
        total += index.add(every.batch(itertools.chain([first], read)), jobs=jobs)
        if bar is not None:
            bar.set_postfix(committed=total.added + total.replaced + total.unchanged)
    if bar is not None:
        bar.close()
    return total


def _counted(documents: Iterator[Document], bar) -> Iterator[Document]:
    for document in documents:
        if bar is not None:
            bar.update()
        yield document


def _progress_bar():
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: a process with threads builds without workers
    return tqdm(desc="reading", unit=" docs", file=sys.stderr, leave=False)


def _load(
    args: argparse.Namespace, declared: dict[str, Field]
) -> Iterator[Document | Skipped | Unrecognized]:
    """The documents of the paths given, standard input for ``-``."""
    max_bytes = int(args.max_file_mb * 1e6)
    for path in args.paths:
        if str(path) == "-":
            suffix = ".jsonl" if args.format == "jsonl" else ".txt"
            yield from load_stream(sys.stdin.buffer, suffix, "stdin", "-", max_bytes, declared)
        else:
            yield from load_paths([path], max_bytes=max_bytes, hidden=args.hidden, declared=declared)


def _index_with_fields(path: Path, wanted: dict[str, Field]) -> Index:
    """The index at ``path`` (made if missing) with the fields of ``--field`` declared: a new
    one is added to an existing index, one declared otherwise already is an error."""
    if not exists(path):
        return Index.create(path, fields=wanted)
    index = Index.open(path)
    try:
        for name, field in wanted.items():
            have = index.fields.get(name)
            if have is None:
                index.add_field(name, field)
            elif have != field:
                raise SearchlibError(f"--field {name}: the index declares {name} as {have!r} already")
    except BaseException:
        index.close()
        raise
    return index


FIELD_KINDS: dict[str, Callable[[], Field]] = {
    "text": fields.Text,
    "keyword": lambda: fields.Keyword(facet=True),
    "keyword+": lambda: fields.Keyword(multiple=True, facet=True),
    "int": lambda: fields.Numeric(int, sortable=True),
    "float": lambda: fields.Numeric(float, sortable=True),
    "date": lambda: fields.Date(sortable=True),
    "bool": fields.Boolean,
    "stored": fields.Stored,
}


def _field_argument(value: str) -> tuple[str, Field]:
    """``--field tags:keyword+`` as (name, declaration); ``notes:text^2`` boosts a text field."""
    name, _, kind = value.partition(":")
    kind, _, boost = kind.strip().lower().partition("^")
    if kind not in FIELD_KINDS or (boost and kind != "text"):
        raise argparse.ArgumentTypeError(
            f"{value!r}: write NAME:KIND with KIND one of {', '.join(FIELD_KINDS)} (text^2 boosts)"
        )
    try:
        fields.check_name(name.strip(), ())
        return name.strip(), fields.Text(boost=float(boost)) if boost else FIELD_KINDS[kind]()
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _remember_legacy_ids(
    documents: Iterator[Document], legacy: dict[str, str], index: Index
) -> Iterator[Document]:
    """Pass ``documents`` on, noting for each text file indexed under the id searchlib 0.1
    gave it (its name without suffix) its content's digest, to remove that old copy
    afterwards. Only ids the index holds are kept: memory does not grow with the files."""
    held = len(index) > 0  # a new index holds none: no lookup per file
    for document in documents:
        path = PurePosixPath(document.id)
        if held and path.suffix.lower() in TEXT_SUFFIXES and path.stem != document.id and path.stem in index:
            legacy[path.stem] = content_digest(document.title, document.body, document.date, document.source)
        yield document


def _dask_client(address: str | None, timeout_s: float) -> contextlib.AbstractContextManager:
    if address is None:
        return contextlib.nullcontext()
    from searchlib import distributed

    return distributed.connect(address, timeout_s)


def run_query(args: argparse.Namespace) -> int:
    index = _open_for_reading(args)
    with index:
        hits = index.search(
            " ".join(args.text),
            limit=args.limit,
            lang=args.lang,
            cross_script=not args.no_cross_script,
            timeout_s=args.timeout,
            filter=filters.from_arguments(args.filter, index.kinds()),
            sort=args.sort,
            offset=args.offset,
            facets=args.facet,
        )
    for prefix in hits.truncated:
        print(
            f"searchlib: {prefix} matches more terms than a query may expand to; "
            "its most frequent ones were searched",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(output.results_json(hits), ensure_ascii=False, default=output.json_default))
    else:
        _print_hits(hits, _bold(args.color), args.offset)
    return EXIT_OK if hits else EXIT_NOTHING_FOUND


def _bold(color: str) -> tuple[str, str]:
    """How matches are marked: terminal bold, or ``**`` where escapes are unwanted."""
    if color == "always" or (color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")):
        return "\033[1m", "\033[0m"
    return "**", "**"


def run_serve(args: argparse.Namespace) -> int:
    try:
        from searchlib import serve
    except ImportError as error:
        raise SearchlibError(
            f"searchlib serve needs the serve extra: pip install 'searchlib[serve]' ({error})"
        ) from None
    if args.write_token:  # writes go to the index itself, never to the demo of the seeds
        path = _index_path(args)

        def open_index() -> Index:
            return Index.open(path) if exists(path) else Index.create(path)

    else:

        def open_index() -> Index:
            return _open_for_reading(args)

    service = serve.Service(open_index, args.write_token, int(args.max_body_mb * 1e6))
    try:
        where = service.index().path  # the demo is built before the first request, not during it
    except serve.ApiError as error:
        print(f"searchlib: {error}; serving 503 until it can be opened", file=sys.stderr)
        where = args.index or paths.default_index()
    serve.serve(service, args.host, args.port, where)
    return EXIT_OK


def run_delete(args: argparse.Namespace) -> int:
    path = _index_path(args)
    with Index.open(path) as index:
        deleted = index.delete(args.ids)
    print(f"{path}: {deleted} of {len(set(args.ids))} deleted")
    return EXIT_OK if deleted == len(set(args.ids)) else EXIT_NOTHING_FOUND


def run_optimize(args: argparse.Namespace) -> int:
    path = _index_path(args)
    with Index.open(path) as index:
        index.optimize()
        print(f"{path}: {len(index)} documents in one segment")
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    path = _index_path(args)
    report = checking.repair(path) if args.repair else checking.check(path)
    for problem in report.problems:
        print(f"damaged: {problem}")
    for note in report.notes:
        print(f"note: {note}")
    documents = f", {report.documents:,} documents" if report.documents is not None else ""
    if report.repaired:
        print(f"{path}: {report.repaired}")
        return EXIT_OK
    if report.healthy:
        print(f"{path}: intact (commit {report.generation}{documents})")
        return EXIT_OK
    print(f"{path}: damaged (commit {report.generation}); `searchlib check --repair` rolls back")
    return EXIT_DAMAGED


def run_analyze(args: argparse.Namespace) -> int:
    analysis = output.analysis_json(" ".join(args.text), args.lang)
    if args.json:
        print(json.dumps(analysis, ensure_ascii=False))
        return EXIT_OK
    print(f"language: {analysis['lang']} (analyzer: {analysis['analyzer']})")
    for row in analysis["tokens"]:
        print(f"{row['position']:>4}  {row['start']:>5}-{row['end']:<5}  {row['word']}  →  {row['term']}")
    return EXIT_OK


def run_stats(args: argparse.Namespace) -> int:
    path = _index_path(args)
    if args.index is None and not exists(path):
        figures = {"path": str(path), "documents": 0, "languages": {}, "terms": 0, "size_bytes": 0}
        if args.json:
            print(json.dumps({**figures, "exists": False}, ensure_ascii=False))
        else:
            print(f"index:     {path} (none yet: `searchlib index PATH…` makes it)")
            print("documents: 0")
        return EXIT_OK
    with Index.open(path) as index:
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
    print("analysis:")
    for lang, version in figures["chain_versions"].items():
        about = analyzers.DESCRIPTIONS.get((lang, version), f"version {version}")
        print(f"  {LANGUAGE_NAMES.get(lang, lang)}: {about}")
    return EXIT_OK


# -- helpers -----------------------------------------------------------------------


def _descending_sorts(argv: Sequence[str]) -> list[str]:
    """``--sort -date`` as ``--sort=-date``: argparse would take ``-date`` for an option."""
    joined: list[str] = []
    for arg in argv:
        if joined and joined[-1] == "--sort" and arg.startswith("-") and arg[1:2].isalpha():
            joined[-1] = f"--sort={arg}"
        else:
            joined.append(arg)
    return joined


def _open_for_reading(args: argparse.Namespace) -> Index:
    """The index to query. Before the user has indexed anything into the default index,
    that is the demo: the bundled seeds, indexed once into the cache directory, never
    into the index the user fills."""
    path = _index_path(args)
    if args.index is not None or exists(path):
        return Index.open(path)
    demo = paths.demo_index()
    if not exists(demo):
        seeds = paths.seeds_dir()
        print(f"searchlib: no index at {path} yet; indexing the bundled seeds ({seeds})", file=sys.stderr)
        _build_demo(demo, seeds)
    print(f"searchlib: searching the demo index of the bundled seeds ({demo})", file=sys.stderr)
    return Index.open(demo)


def _build_demo(demo: Path, seeds: Path) -> None:
    """Index the seeds beside ``demo`` and rename the result into place, so that two first
    queries at once each find either no demo or a whole one."""
    import shutil
    import tempfile

    demo.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".demo-", dir=demo.parent))
    try:
        with Index.create(building / "index") as index:
            index.add(d for d in load_paths([seeds]) if isinstance(d, Document))
        with contextlib.suppress(OSError):  # another process put its demo in place first
            (building / "index").rename(demo)
    finally:
        shutil.rmtree(building, ignore_errors=True)


def _index_path(args: argparse.Namespace) -> Path:
    """``--index``, else the default; refused if other users could have written it."""
    path = args.index or paths.default_index()
    _check_trusted(path, args.trust_index)
    return path


def _check_trusted(path: Path, trusted: bool) -> None:
    """Refuse an index others could have tampered with: owned by another user (not root),
    or with the directory or a file in it writable by other users (a sticky directory
    too: anyone may add a file to it). The restricted unpickler already keeps code out;
    this second line keeps out indexes whose content someone else chose."""
    if trusted or not path.exists():
        return
    for item in [path, *(p for p in path.iterdir() if not p.is_symlink())]:
        problem = _untrusted(item.stat())
        if problem:
            raise SearchlibError(
                f"{item}: {problem}; an index others can change could hold anything: "
                "fix its ownership or permissions, or pass --trust-index"
            )


def _untrusted(info: os.stat_result) -> str | None:
    if info.st_uid not in (os.getuid(), 0):
        return f"owned by another user (uid {info.st_uid})"
    if info.st_mode & stat.S_IWOTH:
        return "other users can write to it"
    if info.st_mode & stat.S_IWGRP and info.st_gid != os.getgid():
        return "its group, not yours, can write to it"
    return None


def _documents(
    items: Iterable[Document | Skipped | Unrecognized],
    skipped: list[Skipped],
    unrecognized: list[Unrecognized] | None = None,
) -> Iterator[Document]:
    for item in items:
        if isinstance(item, Skipped):
            skipped.append(item)
        elif isinstance(item, Unrecognized):
            if unrecognized is not None:
                unrecognized.append(item)
        else:
            yield item


def _print_hits(hits: Results, bold: tuple[str, str], offset: int = 0) -> None:
    """The hits, then how many documents matched and the facets' counts."""
    for rank, hit in enumerate(hits, start=offset + 1):
        title = _printable(hit.title)
        title = title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1] + "…"
        print(f"{rank}. {title}")
        date = f"  date={hit.date:%Y-%m-%d}" if hit.date else ""
        print(f"   {_printable(hit.id)}  lang={hit.lang}  score={hit.score:.3f}{date}")
        if hit.fields:
            values = "  ".join(f"{name}={_shown(value)}" for name, value in hit.fields.items())
            print(f"   {_printable(values)}")
        if hit.snippet:
            print("   " + _plain(hit.snippet, *bold))
        for name, passage in hit.highlights.items():
            print(f"   {name}: " + _plain(passage, *bold))
        print()
    if not hits:
        print(f"no documents found{f' past the first {offset}' if offset and hits.total else ''}")
    else:
        first, last = offset + 1, offset + len(hits)
        shown = (f"{first}–{last}" if last > first else f"{first}") + " of " if len(hits) < hits.total else ""
        print(f"{shown}{hits.total} document{'s' if hits.total != 1 else ''} found")
    for name, counts in hits.facets.items():
        values = ", ".join(f"{_shown(value)} {n}" for value, n in counts.items())
        print(_printable(f"{name}: {values or '(none)'}"))


def _shown(value: object) -> str:
    """A field's value as a line of output shows it."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return ",".join(map(_shown, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _printable(text: str) -> str:
    """``text`` without control characters: a document's escape sequences never reach the
    terminal (``ESC[2J`` would clear it; OSC 8 would plant links)."""
    return _CONTROL.sub("", text)


def _plain(snippet: str, start: str, end: str) -> str:
    import html

    # Private-use marks stand for <em> while the text is unescaped and cleaned.
    snippet = snippet.replace("\ue000", "").replace("\ue001", "")
    marked = html.unescape(_EM.sub(lambda m: f"\ue000{m.group(1)}\ue001", snippet))
    return _printable(marked).replace("\ue000", start).replace("\ue001", end)


if __name__ == "__main__":
    sys.exit(main())
