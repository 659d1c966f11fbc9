"""Every public name of ``oxvec`` has a docstring with a runnable example (``>>>``); the
examples themselves run as doctests (``--doctest-modules``)."""

from __future__ import annotations

import inspect

#: A plain string: nothing to document on it (its meaning is in the package docstring).
_EXCLUDED = {"__version__"}


def _public() -> list[tuple[str, object]]:
    import oxvec.embeddings
    import oxvec.fts
    import oxvec.pydantic
    import oxvec.rerankers
    from oxvec.integrations import langchain, llama_index

    names = [(n, getattr(oxvec, n)) for n in oxvec.__all__ if n not in _EXCLUDED]
    names += [(f"pydantic.{n}", getattr(oxvec.pydantic, n)) for n in oxvec.pydantic.__all__]
    for mod in (oxvec.fts, oxvec.rerankers, oxvec.embeddings):
        names += [(f"{mod.__name__}.{n}", getattr(mod, n)) for n in mod.__all__]
    names += [
        (f"{m.__name__}.OxvecVectorStore", m.OxvecVectorStore) for m in (langchain, llama_index)
    ]
    out = []
    for name, obj in names:
        out.append((name, obj))
        if inspect.isclass(obj):
            for member, value in vars(obj).items():
                # model_post_init: pydantic's hook on models with private attributes.
                if member.startswith("_") or member == "model_post_init":
                    continue
                # Plain class attributes (an exception's `path`) carry no docstring.
                if (
                    callable(value)
                    or isinstance(value, property)
                    or inspect.isdatadescriptor(value)
                ):
                    out.append((f"{name}.{member}", value))
    return out


def test_every_public_name_has_a_runnable_example():
    missing = []
    for name, obj in _public():
        target = obj.fget if isinstance(obj, property) else obj
        if ">>>" not in (inspect.getdoc(target) or ""):
            missing.append(name)
    assert not missing, f"no example in the docstring of {missing}"
