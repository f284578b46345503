"""`remedy serve`: the run-time decisions over HTTP (docs/serving.md).

- `options.py`   what the command was asked for, and the refusals that keep it safe by default;
- `served_folder.py` one loaded, validated folder and what `/v1/health` says about it;
- `reloader.py`  polls the folder and the config, loads a change beside the running folder, swaps it;
- `serving_log.py` one JSON line per decision in remedy's log format, one file a day;
- `app.py`       the Starlette application: four endpoints, bounded bodies, bearer tokens;
- `server.py`    starts uvicorn (the `serve` extra) with one or several workers.
"""
