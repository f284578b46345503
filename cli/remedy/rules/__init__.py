"""Validation rules, one module per code. Each module declares CODE, NAME, SEVERITY and a `check`
generator of Problems; its docstring (with Bad / Good examples) is the user documentation that
`docs/rules.md` is generated from. Adding a rule touches one module and the list in `registry.py`."""
