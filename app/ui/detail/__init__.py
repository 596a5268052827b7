"""The tabs of a meeting's detail view, one module each."""
