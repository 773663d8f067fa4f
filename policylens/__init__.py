"""policylens: text mining for Chinese government policy documents.

Import the API from the submodules (``policylens.api`` for scoring); this package root stays
light so that ``policylens --help`` starts fast.
"""

__version__ = "0.1.0"
