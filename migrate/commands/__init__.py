"""The command layer between the click CLI and the engine.

``cli.py`` parses options and calls one function per command; the code here turns typed options
into engine values and renders results: ``connect`` (the connection, and the embedded sandbox
for ``--sandbox``), ``apicheck`` (a base URL that is not the scenario API), ``exits`` (exit
codes and error lines), ``confirm`` (asking before a write), ``progress`` (progress renderers),
``reportchild`` (reports written by a child process), ``finish`` (tally, JSON) and ``hints``
(the commands it suggests, runnable as printed), ``show`` (planned changes and the preview
before a write), ``status``, ``idle`` (sheet rows that changed nothing), ``retrying`` and
``inventory``. Nothing below this layer starts a sandbox, prints or exits.
"""
