"""A local emulator of the Infobip Voice IVR scenario API (DESIGN §7).

::

    from migrate.sandbox import SandboxConfig, start_sandbox

    with start_sandbox(SandboxConfig(write_rate=Rate(3, 0.5))) as sandbox:
        client = IvrClient(sandbox.base_url, sandbox.credentials(), ...)
        ...
        assert sandbox.put_counts() == {scenario_id: 1}

Modules: ``settings`` (``SandboxConfig``), ``auth`` (``Account``, the four schemes), ``store``
(memory or SQLite), ``seeding`` (seed folder, synthetic clones), ``limits`` (sliding windows),
``faults`` (``Faults``), ``faultbodies`` (the ``nested`` and ``huge`` answers), ``requestlog``
(``LogEntry``), ``app`` (the HTTP layer, ``create_app``) and ``runner`` (``start_sandbox``,
``serve_sandbox``, ``serve_forever``); ``accounts`` starts one with several named accounts
(``start_accounts_sandbox``; ``sandbox.endpoint(name)`` gives each one's URL and credentials).
"""

from migrate.sandbox.accounts import named_accounts, start_accounts_sandbox
from migrate.sandbox.app import create_app
from migrate.sandbox.auth import Account, AccountEndpoint
from migrate.sandbox.faults import Faults
from migrate.sandbox.requestlog import LogEntry
from migrate.sandbox.runner import RunningSandbox, serve_forever, serve_sandbox, start_sandbox
from migrate.sandbox.seeding import bundled_seed_dir
from migrate.sandbox.settings import SandboxConfig

__all__ = [
    "Account",
    "AccountEndpoint",
    "Faults",
    "LogEntry",
    "RunningSandbox",
    "SandboxConfig",
    "bundled_seed_dir",
    "create_app",
    "named_accounts",
    "serve_forever",
    "serve_sandbox",
    "start_accounts_sandbox",
    "start_sandbox",
]
