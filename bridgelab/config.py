"""Dataclass configs stored as YAML, with dot-path overrides and validation.

Every stage's config is a dataclass that subclasses :class:`Config`. Fields are declared with
:func:`param`, whose ``help`` text is the field's documentation (shown by ``--dry-run`` and in
the README). Loading checks every key against the schema: an unknown key, a missing required
key or a value of the wrong type is a :class:`ConfigError` naming the dotted key and the file.
"""

from __future__ import annotations

import copy
import dataclasses
import types
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

import yaml

from bridgelab.errors import ConfigError

T = TypeVar("T", bound="Config")
_MISSING = dataclasses.MISSING


def param(default: Any = _MISSING, *, help: str) -> Any:
    """A documented config field. Mutable defaults (lists, dicts, configs) are copied per instance."""
    metadata = {"help": help}
    if default is _MISSING:
        return dataclasses.field(metadata=metadata)
    if isinstance(default, (list, dict, set)) or dataclasses.is_dataclass(default):
        return dataclasses.field(default_factory=lambda: copy.deepcopy(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, key: str, source: str) -> Any:
    """Check ``value`` against the annotation ``tp``; convert only where lossless (int -> float)."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key, source)
            except ConfigError:
                continue
        raise ConfigError(f"{source}: key '{key}': {value!r} is not a valid {_type_name(tp)}")
    if origin is Literal:
        if value not in get_args(tp):
            choices = ", ".join(repr(a) for a in get_args(tp))
            raise ConfigError(f"{source}: key '{key}': {value!r} is not one of {choices}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{source}: key '{key}': expected a list, got {value!r}")
        (item_tp, *_) = get_args(tp) or (Any,)
        return [_coerce(v, item_tp, f"{key}[{i}]", source) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: key '{key}': expected a mapping, got {value!r}")
        key_tp, val_tp = get_args(tp) or (Any, Any)
        return {
            _coerce(k, key_tp, f"{key}.{k}", source): _coerce(v, val_tp, f"{key}.{k}", source)
            for k, v in value.items()
        }
    if isinstance(tp, type) and issubclass(tp, Config):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: key '{key}': expected a mapping, got {value!r}")
        return tp.from_dict(value, source=source, prefix=f"{key}.")
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: key '{key}': expected true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{source}: key '{key}': expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{source}: key '{key}': expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: key '{key}': expected a string, got {value!r}")
        return value
    raise TypeError(f"unsupported config annotation {tp!r} for key '{key}'")


# The top-level key by which a YAML names its config class (``schema: GridConfig``): presets are
# listed per command by it, and a file given to the wrong command fails on it, not on a key.
SCHEMA_KEY = "schema"


def yaml_schema(path: str | Path) -> str:
    """The config class name a YAML file declares with its top-level ``schema`` key."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get(SCHEMA_KEY), str):
        raise ConfigError(f"{path}: no top-level '{SCHEMA_KEY}: <ConfigClass>' key")
    return data[SCHEMA_KEY]


@dataclasses.dataclass
class Config:
    """Base of every stage config: YAML in, validated dataclass out, YAML back."""

    @classmethod
    def from_dict(
        cls: type[T], data: dict[str, Any], *, source: str = "<config>", prefix: str = ""
    ) -> T:
        if not isinstance(data, dict):
            raise ConfigError(
                f"{source}: expected a mapping at '{prefix or '<top>'}', got {data!r}"
            )
        hints = get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            known = ", ".join(sorted(fields))
            raise ConfigError(
                f"{source}: unknown key '{prefix}{unknown[0]}' (known keys here: {known})"
            )
        kwargs = {}
        for name, f in fields.items():
            key = f"{prefix}{name}"
            if name in data:
                kwargs[name] = _coerce(data[name], hints[name], key, source)
            elif f.default is _MISSING and f.default_factory is _MISSING:
                raise ConfigError(f"{source}: required key '{key}' is missing")
        obj = cls(**kwargs)
        try:
            obj.validate()
        except ConfigError as exc:
            # a nested config's message names its own keys; the prefix makes them full paths
            raise ConfigError(f"{source}: {prefix}{exc}") from None
        return obj

    def validate(self) -> None:
        """Check cross-field constraints; raise ConfigError('key: why'). Subclasses extend this."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Config):
                try:
                    value.validate()
                except ConfigError as exc:
                    raise ConfigError(f"{f.name}.{exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def dump(self, path: str | Path) -> None:
        """Write the config as YAML that names its schema (``schema: <ClassName>`` first)."""
        from bridgelab.utils.io import atomic_write_text

        atomic_write_text(Path(path), f"{SCHEMA_KEY}: {type(self).__name__}\n{self.to_yaml()}")

    @classmethod
    def load(cls: type[T], path: str | Path | None, overrides: list[str] | None = None) -> T:
        """Load YAML (or start from defaults when ``path`` is None) and apply ``a.b=c`` overrides."""
        data: dict[str, Any] = {}
        source = "<defaults>"
        if path is not None:
            path = Path(path)
            source = str(path)
            if not path.is_file():
                raise ConfigError(f"config file not found: {path}")
            try:
                loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                raise ConfigError(f"{path}: not valid YAML: {exc}") from None
            data = loaded or {}
            if not isinstance(data, dict):
                raise ConfigError(f"{path}: the top level must be a mapping")
            named = data.pop(SCHEMA_KEY, None)
            if named is not None and named != cls.__name__:
                raise ConfigError(
                    f"{path}: {SCHEMA_KEY}: the file is a {named}, but this command reads a "
                    f"{cls.__name__}"
                )
        for item in overrides or []:
            apply_override(data, item, cls)
        if overrides:
            source = f"{source} (with overrides {' '.join(overrides)})"
        return cls.from_dict(data, source=source)

    @classmethod
    def field_help(cls) -> dict[str, str]:
        """Dotted key -> help text, for documentation and --dry-run."""
        out: dict[str, str] = {}
        hints = get_type_hints(cls)
        for f in dataclasses.fields(cls):
            out[f.name] = f.metadata.get("help", "")
            tp = hints[f.name]
            if isinstance(tp, type) and issubclass(tp, Config):
                out.update({f"{f.name}.{k}": v for k, v in tp.field_help().items()})
        return out


def apply_override(data: dict[str, Any], item: str, schema: type[Config] | None = None) -> None:
    """Apply one ``a.b.c=value`` override in place; the value is parsed as YAML (so 3, true, [1,2])."""
    if "=" not in item:
        raise ConfigError(f"override '{item}' is not of the form key.path=value")
    dotted, raw = item.split("=", 1)
    dotted = dotted.strip()
    if not dotted:
        raise ConfigError(f"override '{item}' names no key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if schema is not None:
        _check_override_path(dotted, schema)
    node = data
    parts = dotted.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(f"override '{item}': '{part}' is not a mapping")
        node = child
    node[parts[-1]] = value


def _check_override_path(dotted: str, schema: type[Config]) -> None:
    tp: Any = schema
    walked = []
    for part in dotted.split("."):
        walked.append(part)
        if isinstance(tp, type) and issubclass(tp, Config):
            names = {f.name for f in dataclasses.fields(tp)}
            if part not in names:
                raise ConfigError(
                    f"override: unknown key '{'.'.join(walked)}' (known keys here: {', '.join(sorted(names))})"
                )
            tp = get_type_hints(tp)[part]
        else:
            return  # inside a free-form dict: any key is allowed


def config_hash(cfg: Config, *, exclude: tuple[str, ...] = ()) -> str:
    """A stable short hash of a config's content, for naming runs and matching checkpoints."""
    import hashlib
    import json

    data = cfg.to_dict()
    for key in exclude:
        data.pop(key, None)
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


__all__ = ["Config", "param", "apply_override", "config_hash"]


def check_corpus_selection(cfg: Any) -> None:
    """The corpus keys shared by the stages that read a world's or a user's corpora
    (``world``, ``corpora``, ``corpus_langs``, ``probes``): what must be given, and that every
    language names a corpus."""
    if not cfg.world and not cfg.corpora:
        raise ConfigError("corpora: name at least one corpus (or give a world)")
    if not cfg.world and not cfg.probes:
        raise ConfigError("probes: name at least one probe file (or give a world)")
    unknown = sorted(set(cfg.corpus_langs) - set(cfg.corpora))
    if unknown:
        raise ConfigError(f"corpus_langs.{unknown[0]}: not a corpus")
