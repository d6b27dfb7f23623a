//go:build !(linux && (amd64 || arm64))

package benchproc

func residentBytes(string, int64) (int64, error) { return 0, ErrPageCacheUnsupported }

func evictFile(string) error { return ErrPageCacheUnsupported }
