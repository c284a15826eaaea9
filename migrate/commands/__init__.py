"""The command layer between the click CLI and the engine.

``cli.py`` parses options and calls one function per command; the code here turns typed options
into engine values and renders results: ``connect`` (the connection, and the embedded sandbox
for ``--sandbox``), ``exits`` (exit codes and error lines), ``progress`` (progress renderers),
``reportchild`` (reports written by a child process), ``finish`` (tally, hints, JSON).
Nothing below this layer starts a sandbox, prints or exits.
"""
