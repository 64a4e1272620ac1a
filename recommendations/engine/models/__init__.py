"""Recommendation models beside the contract's ranking: each learns from everyone's lists
(``Interactions``) and answers for one user's own list (``UserList``). See ``base``."""
