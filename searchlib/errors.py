"""The errors searchlib raises for problems a user can act on."""


class SearchlibError(Exception):
    """A problem the user can act on; the message names the file or argument."""


class IndexNotFoundError(SearchlibError):
    pass


class IndexLockedError(SearchlibError):
    pass


class UntrustedIndexError(SearchlibError):
    """An index holds something no searchlib index holds (a pickle naming arbitrary code):
    it was refused before anything in it ran."""


class IndexCorruptError(SearchlibError):
    """An index file is not as its commit wrote it (truncated, changed, missing, or put
    there by something else); the message names the file and what it holds.
    ``searchlib check --repair`` rolls back to the last intact commit."""
