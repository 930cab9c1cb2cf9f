"""The command-line interface: thin commands that parse, call one storage function, render."""
