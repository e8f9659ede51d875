package config

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Kind is the type of an option's value.
type Kind string

// The kinds of option. In files and the API, durations are strings such as
// "15s" or "2h30m"; in the environment, lists are comma-separated or a JSON
// array of strings.
const (
	KindString    Kind = "string"
	KindInt       Kind = "int"
	KindFloat     Kind = "float"
	KindBool      Kind = "bool"
	KindDuration  Kind = "duration"
	KindStrings   Kind = "strings"
	KindDurations Kind = "durations"
)

// Option describes one configuration key. The options table (see options.go)
// is the single place a key is declared: its environment variable, type,
// default, documentation, redaction and validation all derive from it.
type Option struct {
	// Key is the dotted name, e.g. "webhook.timeout".
	Key string `json:"key"`
	// Env is the environment variable that overrides it, e.g. LSDVR_WEBHOOK_TIMEOUT.
	Env string `json:"env"`
	// Type is the value's kind.
	Type Kind `json:"type"`
	// Default is the value used when neither the file nor the environment sets
	// it, in the same form as Config.Values.
	Default any `json:"default"`
	// Doc says what the option does, its unit and its special values.
	Doc string `json:"doc"`
	// Secret options are redacted everywhere they are shown.
	Secret bool `json:"secret"`
	// Restart is true when the running server reads the option only at start,
	// so a change takes effect after a restart.
	Restart bool `json:"restart"`

	def   any                  // typed default
	get   func(*Settings) any  // reads the typed field
	set   func(*Settings, any) // writes the typed field
	check func(any) []string   // validates a typed value; each string is one problem
}

// EnvName returns the environment variable for a dotted key: LSDVR_ + the key
// in capitals with dots as underscores.
func EnvName(key string) string {
	return "LSDVR_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// optFunc adjusts an Option while the table is built.
type optFunc func(*Option)

// secret marks an option as secret.
func secret(o *Option) { o.Secret = true }

// restart marks an option as read only at start.
func restart(o *Option) { o.Restart = true }

// check adds a validator taking the option's typed value; an empty string
// means the value is fine.
func check[T any](f func(T) string) optFunc {
	return func(o *Option) {
		o.check = func(v any) []string {
			if msg := f(v.(T)); msg != "" {
				return []string{msg}
			}
			return nil
		}
	}
}

// checkEach adds a validator run on every element of a list option; problems
// name the element's index.
func checkEach[T any](f func(T) string) optFunc {
	return func(o *Option) {
		o.check = func(v any) []string {
			var out []string
			for i, el := range v.([]T) {
				if msg := f(el); msg != "" {
					out = append(out, fmt.Sprintf("[%d] %s", i, msg))
				}
			}
			return out
		}
	}
}

// opt declares an option whose Go type T is that of its Settings field; the
// kind follows from T.
func opt[T any](key string, def T, field func(*Settings) *T, doc string, fns ...optFunc) Option {
	o := Option{
		Key:  key,
		Env:  EnvName(key),
		Type: kindOf(def),
		Doc:  doc,
		def:  def,
		get:  func(s *Settings) any { return *field(s) },
		set:  func(s *Settings, v any) { *field(s) = v.(T) },
	}
	o.Default = format(o.Type, def)
	for _, f := range fns {
		f(&o)
	}
	return o
}

func kindOf(v any) Kind {
	switch v.(type) {
	case string:
		return KindString
	case int:
		return KindInt
	case float64:
		return KindFloat
	case bool:
		return KindBool
	case time.Duration:
		return KindDuration
	case []string:
		return KindStrings
	case []time.Duration:
		return KindDurations
	}
	// The table is code: an unsupported type is a programming error caught
	// by the first test that loads a config.
	panic(fmt.Sprintf("config: unsupported option type %T", v))
}

// FormatDuration writes d compactly: 720h rather than 720h0m0s.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// format turns a typed value into its plain form for files, JSON and
// Values: durations become strings, lists are never nil.
func format(k Kind, v any) any {
	switch k {
	case KindDuration:
		return FormatDuration(v.(time.Duration))
	case KindStrings:
		return append([]string{}, v.([]string)...)
	case KindDurations:
		ds := v.([]time.Duration)
		out := make([]string, len(ds))
		for i, d := range ds {
			out[i] = FormatDuration(d)
		}
		return out
	}
	return v
}

// parseEnv parses an environment variable's text.
func parseEnv(k Kind, s string) (any, error) {
	switch k {
	case KindString:
		return s, nil
	case KindInt:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("must be an integer")
		}
		return n, nil
	case KindFloat:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("must be a number")
		}
		return f, nil
	case KindBool:
		return parseBool(s)
	case KindDuration:
		return parseDuration(s)
	case KindStrings, KindDurations:
		items, err := splitList(s)
		if err != nil {
			return nil, err
		}
		return parseList(k, items)
	}
	return nil, fmt.Errorf("unsupported kind %s", k)
}

// splitList splits a list given as text: a JSON array of strings, or
// comma-separated items (blank items dropped).
func splitList(s string) ([]any, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		var items []string
		if err := json.Unmarshal([]byte(s), &items); err != nil {
			return nil, fmt.Errorf("must be a JSON array of strings or a comma-separated list")
		}
		out := make([]any, len(items))
		for i, it := range items {
			out[i] = it
		}
		return out, nil
	}
	out := []any{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out, nil
}

// parseAny converts a value decoded from YAML, TOML or JSON.
func parseAny(k Kind, v any) (any, error) {
	switch k {
	case KindString:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, fmt.Errorf("must be a string")
	case KindInt:
		if n, ok := toInt(v); ok {
			return n, nil
		}
		if s, ok := v.(string); ok {
			return parseEnv(k, s)
		}
		return nil, fmt.Errorf("must be an integer")
	case KindFloat:
		if f, ok := toFloat(v); ok {
			return f, nil
		}
		if s, ok := v.(string); ok {
			return parseEnv(k, s)
		}
		return nil, fmt.Errorf("must be a number")
	case KindBool:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			return parseBool(b)
		}
		return nil, fmt.Errorf("must be true or false")
	case KindDuration:
		if s, ok := v.(string); ok {
			return parseDuration(s)
		}
		if n, ok := toInt(v); ok && n == 0 {
			return time.Duration(0), nil
		}
		return nil, fmt.Errorf("must be a duration such as \"15s\", \"5m\" or \"2h\"")
	case KindStrings, KindDurations:
		switch l := v.(type) {
		case string:
			items, err := splitList(l)
			if err != nil {
				return nil, err
			}
			return parseList(k, items)
		case []any:
			return parseList(k, l)
		case []string:
			items := make([]any, len(l))
			for i, s := range l {
				items[i] = s
			}
			return parseList(k, items)
		case nil:
			return parseList(k, nil)
		}
		return nil, fmt.Errorf("must be a list of strings")
	}
	return nil, fmt.Errorf("unsupported kind %s", k)
}

func parseList(k Kind, items []any) (any, error) {
	if k == KindStrings {
		out := make([]string, 0, len(items))
		for i, it := range items {
			s, ok := it.(string)
			if !ok {
				return nil, fmt.Errorf("[%d] must be a string", i)
			}
			out = append(out, s)
		}
		return out, nil
	}
	out := make([]time.Duration, 0, len(items))
	for i, it := range items {
		d, err := parseAny(KindDuration, it)
		if err != nil {
			return nil, fmt.Errorf("[%d] %w", i, err)
		}
		out = append(out, d.(time.Duration))
	}
	return out, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "yes", "y", "on":
		return true, nil
	case "0", "f", "false", "no", "n", "off":
		return false, nil
	}
	return false, fmt.Errorf("must be true or false")
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("must be a duration such as \"15s\", \"5m\" or \"2h\"")
	}
	return d, nil
}

// toInt accepts every integer type decoders produce, and floats without a
// fraction (JSON numbers decode as float64).
func toInt(v any) (int, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := rv.Int()
		return int(n), n >= math.MinInt && n <= math.MaxInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n := rv.Uint()
		return int(n), n <= math.MaxInt
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if f == math.Trunc(f) && f >= math.MinInt64 && f <= math.MaxInt64 {
			return int(f), true
		}
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		return f, !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	if n, ok := toInt(v); ok {
		return float64(n), true
	}
	return 0, false
}

// display shows a value in a problem message; secrets are never shown.
func (o *Option) display(v any) string {
	if o.Secret {
		return RedactedValue
	}
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case time.Duration:
		return strconv.Quote(FormatDuration(x))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
