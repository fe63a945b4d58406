"""beian-scan: check released app packages against China's App filing (App备案) rules."""

__version__ = "0.1.0"
