"""The errors searchlib raises for problems a user can act on."""


class SearchlibError(Exception):
    """A problem the user can act on; the message names the file or argument."""


class IndexNotFoundError(SearchlibError):
    pass


class IndexLockedError(SearchlibError):
    pass
