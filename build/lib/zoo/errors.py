"""Errors that mean a user mistake: the CLI prints their one-line message and exits with status 2."""


class UserError(Exception):
    """A mistake the user can fix; the message names what is wrong and what is valid."""


class ConfigError(UserError, ValueError):
    """An invalid configuration (unknown choice or key, wrong type, impossible combination)."""


class CheckpointError(UserError, ValueError):
    """A checkpoint that cannot be loaded: missing, corrupt, truncated, other format, or another run's."""
