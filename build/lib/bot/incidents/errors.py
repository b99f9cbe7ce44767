"""Refusals the domain explains to people. Messages are complete sentences, plain text."""


class IncidentError(Exception):
    """A request that cannot be done as asked; the message says what is valid instead."""


class NotFound(IncidentError):
    pass


class InvalidRequest(IncidentError):
    pass
