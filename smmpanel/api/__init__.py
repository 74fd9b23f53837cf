"""HTTP entry points: parse, call one use case, shape the answer."""
