"""The Supabase stand-in on the real PostgreSQL, shared by the sync tests and the GUI tests."""
