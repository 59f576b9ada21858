/* The image-side witness for smoke-test's tests (test/integration/smoke-test.test.ts): the entrypoint
 * of a FROM scratch image beside the fake vLLM server. As the server's entrypoint it reports what the
 * container was given, then becomes the fake server (same argv):
 *   READER_SHOW       comma-separated variable names whose values it logs ("reader: NAME=value")
 *   HF_TOKEN_PATH     read after a second (when the host copy is gone) and logged, then written to
 *   READER_WRITE_DIR  a directory it tries to create a file in (the model cache)
 * Installed as python3 too, it stands in for the GPU probe: one JSON verdict naming its variables. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static void attempt_write(const char *what, const char *path, int flags) {
  int fd = open(path, flags, 0644);
  fprintf(stderr, "reader: %s: %s\n", what, fd < 0 ? strerror(errno) : "written");
  if (fd >= 0) close(fd);
}

int main(int argc, char **argv) {
  (void)argc;
  const char *base = strrchr(argv[0], '/');
  base = base ? base + 1 : argv[0];
  if (strcmp(base, "python3") == 0) {
    printf("{\"ok\": true, \"verdict\": \"ok\", \"detail\": \"variables:");
    for (char **e = environ; *e; e++) printf(" %.*s", (int)strcspn(*e, "="), *e);
    printf("\"}\n");
    return 0;
  }
  const char *show = getenv("READER_SHOW");
  if (show) {
    char names[1024];
    snprintf(names, sizeof names, "%s", show);
    for (char *name = strtok(names, ","); name; name = strtok(NULL, ",")) {
      const char *value = getenv(name);
      fprintf(stderr, "reader: %s=%s\n", name, value ? value : "(unset)");
    }
  }
  const char *token_path = getenv("HF_TOKEN_PATH");
  if (token_path) {
    sleep(1);
    char token[512] = {0};
    int fd = open(token_path, O_RDONLY);
    if (fd < 0) {
      fprintf(stderr, "reader: token file %s: %s\n", token_path, strerror(errno));
    } else {
      ssize_t n = read(fd, token, sizeof token - 1);
      close(fd);
      fprintf(stderr, "reader: token file %s: %s\n", token_path, n >= 0 ? token : strerror(errno));
    }
    attempt_write("token file write", token_path, O_WRONLY | O_TRUNC);
  }
  const char *dir = getenv("READER_WRITE_DIR");
  if (dir) {
    char path[1024];
    snprintf(path, sizeof path, "%s/planted-by-image", dir);
    attempt_write("cache write", path, O_WRONLY | O_CREAT);
  }
  fflush(stderr);
  argv[0] = "/usr/bin/fake-vllm";
  execv(argv[0], argv);
  fprintf(stderr, "reader: exec fake-vllm: %s\n", strerror(errno));
  return 127;
}
