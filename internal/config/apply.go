package config

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/lsdvr/lsdvr/internal/dvr"
)

// Result says what Apply changed.
type Result struct {
	// Changed lists the keys whose values changed, sorted; empty when the
	// request changed nothing.
	Changed []string `json:"changed"`
	// RestartRequired lists the changed keys that take effect only after a
	// restart, sorted.
	RestartRequired []string `json:"restart_required"`
}

// Apply sets the given keys (dotted, values as in Values: durations as
// strings such as "15s", lists as arrays; null resets a key to its default)
// and saves the file. The whole resulting configuration is validated first,
// and nothing is saved or changed when anything is wrong:
//
//   - an unknown key is an EINVALID error naming it;
//   - a key set by the environment cannot be changed: an ECONFLICT error
//     naming the variable (sending its current value is allowed, and does
//     nothing);
//   - a value of the wrong type or failing validation is an EINVALID error;
//     every problem is listed in one message.
//
// A secret sent as "********" is left unchanged, so a client may send back
// what Redacted gave it. The file is replaced atomically, keeps its format
// (YAML or TOML) and has mode 0600; keys set only by defaults or the
// environment are not written. Hooks registered with OnChange run after the
// file is saved. Apply calls are serialized.
func (c *Config) Apply(ctx context.Context, changes map[string]any) (Result, error) {
	c.applyMu.Lock()
	defer c.applyMu.Unlock()

	res, err := c.apply(ctx, changes)
	if err != nil || len(res.Changed) == 0 {
		return res, err
	}
	c.mu.RLock()
	hooks := slices.Clone(c.hooks)
	c.mu.RUnlock()
	for _, h := range hooks {
		h(slices.Clone(res.Changed))
	}
	return res, nil
}

func (c *Config) apply(ctx context.Context, changes map[string]any) (Result, error) {
	res := Result{Changed: []string{}, RestartRequired: []string{}}
	c.mu.RLock()
	next := c.settings
	fileVals := maps.Clone(c.fileVals)
	sources := maps.Clone(c.sources)
	c.mu.RUnlock()

	var invalid, conflict []string
	for _, key := range sortedKeys(changes) {
		raw := changes[key]
		o := find(c.opts, key)
		if o == nil {
			invalid = append(invalid, fmt.Sprintf("unknown config key %q", key))
			continue
		}
		if o.Secret && raw == RedactedValue {
			continue
		}
		var v any
		if raw == nil {
			v = o.def
		} else {
			var err error
			if v, err = parseAny(o.Type, raw); err != nil {
				invalid = append(invalid, Problem{Key: key, Value: o.display(raw), Message: err.Error()}.String())
				continue
			}
		}
		if sources[key] == SourceEnv {
			if !reflect.DeepEqual(v, o.get(&next)) {
				conflict = append(conflict, fmt.Sprintf("%s is set by the environment variable %s and cannot be changed here", key, o.Env))
			}
			continue
		}
		// A value equal to the current one is not pinned in the file, so a
		// client sending the whole configuration back saves only its edits.
		if reflect.DeepEqual(v, o.get(&next)) {
			continue
		}
		o.set(&next, v)
		if raw == nil {
			delete(fileVals, key)
			sources[key] = SourceDefault
		} else {
			fileVals[key] = v
			sources[key] = SourceFile
		}
		res.Changed = append(res.Changed, key)
		if o.Restart {
			res.RestartRequired = append(res.RestartRequired, key)
		}
	}
	if len(invalid) > 0 {
		return Result{}, dvr.Errorf(dvr.EINVALID, "%s", strings.Join(invalid, "; "))
	}
	if len(conflict) > 0 {
		return Result{}, dvr.Errorf(dvr.ECONFLICT, "%s", strings.Join(conflict, "; "))
	}
	if len(res.Changed) == 0 {
		return res, nil
	}
	ps := validate(c.opts, &next, func(key string) string {
		if slices.Contains(res.Changed, key) {
			return "request"
		}
		return c.sourceOf(sources, key)
	})
	if len(ps) > 0 {
		msgs := ps.err().(*ValidationError).Messages()
		return Result{}, dvr.Errorf(dvr.EINVALID, "%s", strings.Join(msgs, "; "))
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("save config: %w", err)
	}
	if err := c.save(fileVals); err != nil {
		return Result{}, err
	}
	c.mu.Lock()
	c.settings, c.fileVals, c.sources = next, fileVals, sources
	c.mu.Unlock()
	return res, nil
}

// save writes the values the file sets, in the file's format.
func (c *Config) save(fileVals map[string]any) error {
	flat := make(map[string]any, len(fileVals))
	for key, v := range fileVals {
		flat[key] = format(find(c.opts, key).Type, v)
	}
	data, err := encode(flat, c.format)
	if err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	if err := writeAtomic(c.path, data); err != nil {
		return fmt.Errorf("save config %s: %w", c.path, err)
	}
	return nil
}
