"""Small helpers shared by every stage (atomic files, compressed text, run folders)."""
