// Package config is lsdvr's configuration: one typed Settings struct built
// from one options table (options.go), where each option declares its dotted
// key, environment variable, type, default, documentation, secret flag,
// validator and whether a change needs a restart.
//
// # Sources
//
// Values come from, lowest precedence first: the defaults, the config file
// (config.yaml or config.toml in the data directory, or an explicit file),
// and the environment, where every key is LSDVR_ + the key in capitals with
// dots as underscores (webhook.timeout -> LSDVR_WEBHOOK_TIMEOUT). Load takes
// the environment as a slice so that only main reads os.Environ. Sources
// tells where each value came from.
//
// # Validation
//
// Load reports every problem at once (unknown keys and variables, wrong
// types, failed validators, rules across options) in a *ValidationError,
// each naming the key, its source and the value, with secrets shown as
// ********.
//
// # Changes
//
// Apply validates a partial update as a whole, saves the file atomically in
// its own format and tells hooks registered with OnChange. Keys set by the
// environment cannot be changed through Apply.
package config
