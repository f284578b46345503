"""`remedy workspace`: the expert's workflow in a browser, over the same core functions as the commands
(DESIGN 6). Needs the `workspace` extra (Starlette, uvicorn, jinja2, python-multipart)."""
