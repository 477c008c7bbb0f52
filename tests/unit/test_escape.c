/* common/escape.c: strings from an image (a cwd, a comm, a file name) reach
 * messages and log lines with no control character and no broken UTF-8,
 * and ckpt_fail escapes every message it keeps. */
#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "common/err.h"
#include "common/escape.h"

static const char *esc(const char *s)
{
	static char buf[256];

	return ckpt_escape(buf, sizeof(buf), s);
}

Test(escape, plain_text_unchanged)
{
	cr_assert_str_eq(esc("/home/user/a b.txt"), "/home/user/a b.txt");
	cr_assert_str_eq(esc(""), "");
	cr_assert(ckpt_escape_clean("/home/user"));
}

Test(escape, controls)
{
	cr_assert_str_eq(esc("/tmp/x\nckptd: restore for uid 0 done"),
			 "/tmp/x\\nckptd: restore for uid 0 done");
	cr_assert_str_eq(esc("a\tb\rc"), "a\\tb\\rc");
	cr_assert_str_eq(esc("\033]0;owned\007\033[2J"), "\\e]0;owned\\x07\\e[2J");
	cr_assert_str_eq(esc("del\177"), "del\\x7f");
	cr_assert_not(ckpt_escape_clean("a\nb"));
}

Test(escape, utf8_kept_bad_bytes_escaped)
{
	cr_assert_str_eq(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
			 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* a lone continuation byte, a cut sequence, an overlong '/', a surrogate */
	cr_assert_str_eq(esc("\x80"), "\\x80");
	cr_assert_str_eq(esc("a\xc3"), "a\\xc3");
	cr_assert_str_eq(esc("\xc0\xaf"), "\\xc0\\xaf");
	cr_assert_str_eq(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	cr_assert_str_eq(esc("\xff"), "\\xff");
	/* C1 controls (U+009B is a CSI to many terminals) */
	cr_assert_str_eq(esc("\xc2\x9b" "2J"), "\\xc2\\x9b2J");
	cr_assert_str_eq(esc("\xc2\xa0"), "\xc2\xa0");
}

Test(escape, idempotent)
{
	char once[256], twice[256];
	const char *s = "back\\slash \n \xff \033 \xc2\x85";

	ckpt_escape(once, sizeof(once), s);
	ckpt_escape(twice, sizeof(twice), once);
	cr_assert_str_eq(once, twice);
	cr_assert(ckpt_escape_clean(once));
}

Test(escape, truncation_keeps_escapes_whole)
{
	char buf[8];

	cr_assert_str_eq(ckpt_escape(buf, sizeof(buf), "abcdefg"), "abcdefg");
	cr_assert_str_eq(ckpt_escape(buf, sizeof(buf), "abcdefgh"), "abcd...");
	cr_assert_str_eq(ckpt_escape(buf, sizeof(buf), "ab\ncdefgh"), "ab\\n...");
	cr_assert_str_eq(ckpt_escape(buf, sizeof(buf), "abc\ndefgh"), "abc...");
	cr_assert_str_eq(ckpt_escape(buf, sizeof(buf), "a\xe2\x82\xac\xe2\x82\xacx"),
			 "a\xe2\x82\xac...");
	cr_assert_str_eq(ckpt_escape(buf, 1, "abc"), "");
	cr_assert_str_eq(ckpt_escape(buf, 4, "abcd"), "...");
}

Test(escape, inplace)
{
	char buf[16] = "x\ny";

	ckpt_escape_inplace(buf, sizeof(buf));
	cr_assert_str_eq(buf, "x\\ny");
}

/* the error slot escapes what it keeps: a forged log line stays one line */
Test(escape, ckpt_fail_escapes)
{
	struct ckpt_err e = { 0 };

	ckpt_fail(&e, -ENOENT, "pid %d: cannot change directory to %s", 7,
		  "/tmp/x\nckptd: restore for uid 0 (pid 1) done\033[2K");
	cr_assert_str_eq(e.msg, "pid 7: cannot change directory to /tmp/x\\nckptd: restore for "
			 "uid 0 (pid 1) done\\e[2K: No such file or directory");
	cr_assert_null(strchr(e.msg, '\n'));
}
