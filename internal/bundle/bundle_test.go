package bundle

import (
	"os"
	"path/filepath"
	"testing"
)

func TestAssetDirsOrder(t *testing.T) {
	t.Setenv(AssetsEnv, "/opt/mgvton-assets")
	dirs := AssetDirs()
	if len(dirs) < 2 || dirs[0] != "/opt/mgvton-assets" {
		t.Fatalf("AssetDirs: got %v; want $%s first", dirs, AssetsEnv)
	}
	wd, _ := os.Getwd()
	if last := dirs[len(dirs)-1]; last != filepath.Join(wd, "assets") {
		t.Errorf("last assets dir: got %s; want the working directory's assets", last)
	}
}
