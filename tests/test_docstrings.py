"""Every public name of ``oxvec`` has a docstring with a runnable example (``>>>``); the
examples themselves run as doctests (``--doctest-modules``)."""

from __future__ import annotations

import inspect

import oxvec

#: A plain string: nothing to document on it (its meaning is in the package docstring).
_EXCLUDED = {"__version__"}


def _public() -> list[tuple[str, object]]:
    out = []
    for name in oxvec.__all__:
        if name in _EXCLUDED:
            continue
        obj = getattr(oxvec, name)
        out.append((name, obj))
        if inspect.isclass(obj):
            for member, value in vars(obj).items():
                if member.startswith("_"):
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
