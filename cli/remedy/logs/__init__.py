"""Log exports: reading them with DuckDB into one canonical table, and clustering unaddressed failures.

- `settings`: which field of the export holds what (`[logs]` in the config, the `hosted` preset).
- `reading`: `read_logs` turns JSONL / .jsonl.gz / Parquet / CSV files into a DuckDB table with the
  canonical columns and the derived `is_failure`, `severity`, `primary_issue` (DESIGN 1, 2.3).
- `clustering`: `cluster_failures` groups similar failure queries into issues with stable ids.

See docs/logs.md for the format, the derivations and the clustering.
"""
