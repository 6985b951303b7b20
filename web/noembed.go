//go:build !embedweb

package web

import "io/fs"

// FS is nil in a build without the tag embedweb: the server reads a web folder.
func FS() fs.FS { return nil }
