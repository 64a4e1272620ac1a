"""The numeric core of Reko, free of Django: the taste hash, hash distances, the in-memory
user index, the contract's rankings and the index file format. ``recommendations.live_index``
connects it to the database; everything here takes and returns plain numpy arrays."""
