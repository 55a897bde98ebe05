"""Turning posts into search-index tokens (jieba words and character bigrams): the glue between
``nlp`` (segmentation) and ``storage`` (the index tables), which may not import each other.

The scheduler keeps the indexes current with it and the API tokenises queries with it, so it
belongs to neither of them.
"""
