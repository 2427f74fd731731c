"""Small helpers every package may use: atomic files and compressed text (``io``), thread
choice (``threads``) and paired statistics (``stats``). Nothing here knows about stages.
"""
