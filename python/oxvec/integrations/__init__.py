"""Integrations with other libraries, each an optional extra.

``oxvec.integrations.langchain``: a LangChain vector store (``pip install oxvec[langchain]``);
``oxvec.integrations.llama_index``: a LlamaIndex vector store (``oxvec[llama-index]``).
Polars (``tbl.scan()``) and DuckDB (``duckdb.sql("... from tbl")``) need no module of their
own: a table speaks their protocols.
"""
