"""The command-line layer: parse options, call one core function, print its result, return an exit code."""
