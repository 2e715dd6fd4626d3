"""The ``airkube`` commands, one module per group: each registers its parsers and holds its
handlers as top-level functions ``handler(args, context) -> exit code``."""
