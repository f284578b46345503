"""Formatters: pure functions from data (problems, rows) to text. Nothing here reads files or prints."""
