package record

// SetRemoveAllFunc replaces how VOD folders are removed, so tests can make
// removal fail (the suite may run as root, where permissions do not).
func (l *Library) SetRemoveAllFunc(fn func(path string) error) { l.removeAllFunc = fn }
