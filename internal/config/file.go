package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"go.yaml.in/yaml/v3"
)

// File names looked for in the data directory.
const (
	YAMLFile = "config.yaml"
	TOMLFile = "config.toml"
)

// fileFormat is "yaml" or "toml".
type fileFormat string

const (
	formatYAML fileFormat = "yaml"
	formatTOML fileFormat = "toml"
)

// formatOf returns a file's format from its extension.
func formatOf(path string) (fileFormat, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return formatYAML, nil
	case ".toml":
		return formatTOML, nil
	}
	return "", fmt.Errorf("config file %s: name must end in .yaml, .yml or .toml", path)
}

// locateFile decides which file to read and save to. explicit, when set,
// must exist. Otherwise the data directory may hold config.yaml or
// config.toml but not both; when it holds neither, saves go to config.yaml
// and exists is false.
func locateFile(dataDir, explicit string) (path string, f fileFormat, exists bool, err error) {
	if explicit != "" {
		if f, err = formatOf(explicit); err != nil {
			return "", "", false, err
		}
		if _, err := os.Stat(explicit); err != nil {
			return "", "", false, fmt.Errorf("config file %s: %w", explicit, err)
		}
		return explicit, f, true, nil
	}
	yamlPath := filepath.Join(dataDir, YAMLFile)
	tomlPath := filepath.Join(dataDir, TOMLFile)
	yamlOK, err := isFile(yamlPath)
	if err != nil {
		return "", "", false, err
	}
	tomlOK, err := isFile(tomlPath)
	if err != nil {
		return "", "", false, err
	}
	switch {
	case yamlOK && tomlOK:
		return "", "", false, fmt.Errorf("both %s and %s exist; keep only one", yamlPath, tomlPath)
	case tomlOK:
		return tomlPath, formatTOML, true, nil
	case yamlOK:
		return yamlPath, formatYAML, true, nil
	}
	return yamlPath, formatYAML, false, nil
}

func isFile(path string) (bool, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("config file %s: %w", path, err)
	}
	if st.IsDir() {
		return false, fmt.Errorf("config file %s is a directory", path)
	}
	return true, nil
}

// readFile decodes a config file into flat dotted keys.
func readFile(path string, f fileFormat) (map[string]any, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	tree := map[string]any{}
	switch f {
	case formatYAML:
		if err := yaml.Unmarshal(raw, &tree); err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
	case formatTOML:
		if _, err := toml.Decode(string(raw), &tree); err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	flat := map[string]any{}
	if err := flatten("", tree, flat); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return flat, nil
}

// flatten turns nested maps into dotted keys: {webhook: {timeout: 15s}}
// becomes {"webhook.timeout": "15s"}. A null value counts as unset, so a
// section whose keys are all commented out is fine.
func flatten(prefix string, in map[string]any, out map[string]any) error {
	for k, v := range in {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch x := v.(type) {
		case nil:
			continue
		case map[string]any:
			if err := flatten(key, x, out); err != nil {
				return err
			}
			continue
		}
		if _, dup := out[key]; dup {
			return fmt.Errorf("key %q is set twice", key)
		}
		out[key] = v
	}
	return nil
}

// nest turns dotted keys back into sections, for writing.
func nest(flat map[string]any) map[string]any {
	tree := map[string]any{}
	keys := make([]string, 0, len(flat))
	for k := range flat {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		parts := strings.Split(key, ".")
		node := tree
		for _, p := range parts[:len(parts)-1] {
			child, ok := node[p].(map[string]any)
			if !ok {
				child = map[string]any{}
				node[p] = child
			}
			node = child
		}
		node[parts[len(parts)-1]] = flat[key]
	}
	return tree
}

// encode writes flat keys as a file of the given format, with sections.
func encode(flat map[string]any, f fileFormat) ([]byte, error) {
	tree := nest(flat)
	var buf bytes.Buffer
	buf.WriteString("# lsdvr configuration. Saved by lsdvr; every key can also be set from the\n# environment as LSDVR_ + the key in capitals with dots as underscores.\n")
	switch f {
	case formatTOML:
		if err := toml.NewEncoder(&buf).Encode(tree); err != nil {
			return nil, fmt.Errorf("encode toml: %w", err)
		}
	default:
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(tree); err != nil {
			return nil, fmt.Errorf("encode yaml: %w", err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("encode yaml: %w", err)
		}
	}
	return buf.Bytes(), nil
}

// writeAtomic replaces path with data so that readers see the old file or
// the new one, never a part: a temporary file in the same directory is
// written, synced and renamed over it. The mode is 0600 because the file
// holds secrets.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create config folder: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("create temporary config file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("set config file mode: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write config file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync config file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close config file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace config file: %w", err)
	}
	// The rename is durable only once the directory itself is synced.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
