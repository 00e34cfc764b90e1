"""The HTTP API: the same services and the same gate as the CLI."""
