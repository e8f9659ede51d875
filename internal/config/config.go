package config

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Source says where an option's value came from.
type Source string

// The sources, lowest precedence first: the environment wins over the file,
// which wins over the default.
const (
	SourceDefault Source = "default"
	SourceFile    Source = "file"
	SourceEnv     Source = "env"
)

// RedactedValue is what Redacted shows for a secret that is set. Apply
// treats this value for a secret as "leave unchanged", so a client can send
// back what it read.
const RedactedValue = "********"

// cliVariables are LSDVR_ variables of the command-line client, not options.
var cliVariables = []string{"LSDVR_SERVER", "LSDVR_TOKEN"}

// Config is the live configuration: typed settings, where each value came
// from, and the file that Apply saves to. It is safe for concurrent use.
type Config struct {
	opts   []Option
	path   string     // file saves go to
	format fileFormat // format of that file

	applyMu sync.Mutex // serializes Apply, hooks included

	mu       sync.RWMutex
	settings Settings
	sources  map[string]Source
	fileVals map[string]any // typed values the file sets (written back on save)
	env      map[string]any // typed values the environment sets
	hooks    []func(changed []string)
}

// Load builds the configuration from defaults, then the config file, then
// the environment. dataDir holds config.yaml or config.toml (both is an
// error; neither means defaults). file, when not empty, is an explicit
// config file that must exist and end in .yaml, .yml or .toml. environ is
// "KEY=VALUE" strings as from os.Environ; only LSDVR_ variables are read.
//
// Unknown keys in the file, unknown LSDVR_ variables whose name starts like
// an option's section (LSDVR_WEBHOOK_...), values of the wrong type and
// values that fail validation are all reported at once in a
// *ValidationError, each naming the key, where it was set and the value
// (secrets shown as ********).
func Load(dataDir, file string, environ []string) (*Config, error) {
	c := &Config{opts: table(), sources: map[string]Source{}, fileVals: map[string]any{}, env: map[string]any{}}
	path, f, exists, err := locateFile(dataDir, file)
	if err != nil {
		return nil, err
	}
	c.path, c.format = path, f

	var ps problems
	var flat map[string]any
	if exists {
		if flat, err = readFile(path, f); err != nil {
			return nil, err
		}
	}
	fileSrc := "file " + path
	for _, key := range sortedKeys(flat) {
		o := find(c.opts, key)
		if o == nil {
			ps.add(key, fileSrc, "", "unknown key")
			continue
		}
		v, err := parseAny(o.Type, flat[key])
		if err != nil {
			ps.add(key, fileSrc, o.display(flat[key]), "%s", err.Error())
			continue
		}
		c.fileVals[key] = v
	}

	vars := envVars(environ)
	for _, name := range sortedKeys(vars) {
		o := c.byEnv(name)
		if o == nil {
			if c.looksLikeOption(name) {
				ps.add(name, "env", "", "unknown variable: no config key %q", envKey(name))
			}
			continue
		}
		v, err := parseEnv(o.Type, vars[name])
		if err != nil {
			ps.add(o.Key, "env "+name, o.display(vars[name]), "%s", err.Error())
			continue
		}
		c.env[o.Key] = v
	}

	for i := range c.opts {
		o := &c.opts[i]
		v, src := o.def, SourceDefault
		if fv, ok := c.fileVals[o.Key]; ok {
			v, src = fv, SourceFile
		}
		if ev, ok := c.env[o.Key]; ok {
			v, src = ev, SourceEnv
		}
		o.set(&c.settings, v)
		c.sources[o.Key] = src
	}
	ps = append(ps, validate(c.opts, &c.settings, c.sourceName)...)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// envVars keeps the LSDVR_ variables of environ; later entries win, as in
// the process environment.
func envVars(environ []string) map[string]string {
	out := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, "LSDVR_") && !slices.Contains(cliVariables, k) {
			out[k] = v
		}
	}
	return out
}

// envKey guesses the dotted key a variable was meant for, for messages.
func envKey(name string) string {
	rest := strings.ToLower(strings.TrimPrefix(name, "LSDVR_"))
	section, key, _ := strings.Cut(rest, "_")
	return section + "." + key
}

func (c *Config) byEnv(name string) *Option {
	for i := range c.opts {
		if c.opts[i].Env == name {
			return &c.opts[i]
		}
	}
	return nil
}

// looksLikeOption reports whether an unknown variable starts with the prefix
// of a section of options (LSDVR_WEBHOOK_...), so a typo is caught while
// unrelated LSDVR_ variables of other tools are left alone.
func (c *Config) looksLikeOption(name string) bool {
	for _, o := range c.opts {
		section, _, _ := strings.Cut(o.Key, ".")
		if strings.HasPrefix(name, EnvName(section)+"_") {
			return true
		}
	}
	return false
}

// sourceName describes where key's value came from, for problems. Callers
// hold mu or own c exclusively.
func (c *Config) sourceName(key string) string { return c.sourceOf(c.sources, key) }

func (c *Config) sourceOf(sources map[string]Source, key string) string {
	switch sources[key] {
	case SourceEnv:
		return "env " + EnvName(key)
	case SourceFile:
		return "file " + c.path
	}
	return "default"
}

// Settings returns a copy of the typed settings. Lists in it must not be
// modified.
func (c *Config) Settings() Settings {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.settings
}

// Options returns the options table, in documentation order.
func (c *Config) Options() []Option {
	return slices.Clone(c.opts)
}

// Options returns the options table without loading anything, e.g. for
// documentation.
func Options() []Option { return table() }

// Path returns the file that Apply writes: the file that was loaded, or
// config.yaml in the data directory when there was none.
func (c *Config) Path() string { return c.path }

// Sources returns, for every key, where its value came from.
func (c *Config) Sources() map[string]Source {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return maps.Clone(c.sources)
}

// Values returns every key's value in plain form (durations as strings like
// "15s", lists as []string), secrets included. Never show it to users; see
// Redacted.
func (c *Config) Values() map[string]any {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[string]any, len(c.opts))
	for _, o := range c.opts {
		out[o.Key] = format(o.Type, o.get(&c.settings))
	}
	return out
}

// Redacted is Values with every secret replaced by "********" when it is set
// and "" when it is empty. It is what the API, events and logs show.
func (c *Config) Redacted() map[string]any {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[string]any, len(c.opts))
	for _, o := range c.opts {
		v := o.get(&c.settings)
		if o.Secret {
			out[o.Key] = ""
			if !isEmpty(v) {
				out[o.Key] = RedactedValue
			}
			continue
		}
		out[o.Key] = format(o.Type, v)
	}
	return out
}

// OnChange registers fn to run after every Apply that changed something,
// with the sorted changed keys. fn runs on Apply's goroutine after the file
// is saved; it must be quick and must not call Apply. Read the new values
// with Settings.
func (c *Config) OnChange(fn func(changed []string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hooks = append(c.hooks, fn)
}

// Validate checks the current settings again and returns a *ValidationError
// listing every problem, or nil.
func (c *Config) Validate() error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return validate(c.opts, &c.settings, c.sourceName).err()
}

func isEmpty(v any) bool {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String, reflect.Slice:
		return rv.Len() == 0
	}
	return rv.IsZero()
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
