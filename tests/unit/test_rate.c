/* client/rate.h: the rate and time left ckptctl draws for a "pages"
 * stage, from the counts as they arrive. */
#include <criterion/criterion.h>

#include <stdbool.h>
#include <string.h>

#include "client/rate.h"

#define MS 1000ull

Test(rate, nothing_before_an_interval)
{
	struct rate r = { 0 };
	char buf[128];

	rate_add(&r, 1000 * MS, 0, 25600);
	rate_add(&r, 1010 * MS, 256, 25600);
	rate_format(&r, 4096, buf, sizeof(buf));
	cr_assert_str_eq(buf, ", 1.0 MiB of 100.0 MiB");
}

Test(rate, steady_rate_and_time_left)
{
	struct rate r = { 0 };
	char buf[128];

	/* 25600 pages of 4 KiB = 100 MiB; 2560 pages (10 MiB) every 100 ms */
	for (unsigned i = 0; i <= 5; i++)
		rate_add(&r, (1000 + 100 * i) * MS, 2560 * i, 25600);
	rate_format(&r, 4096, buf, sizeof(buf));
	cr_assert_str_eq(buf, ", 50.0 MiB of 100.0 MiB, 100.0 MiB/s, 1 s left");
}

Test(rate, a_stall_slows_it_and_gib_and_minutes)
{
	struct rate r = { 0 };
	char buf[128];
	uint64_t total = 4ull << 18;	/* 4 GiB in pages */

	rate_add(&r, 0, 0, total);
	rate_add(&r, 1000 * MS, 2560, total);	/* 10 MiB/s */
	rate_format(&r, 4096, buf, sizeof(buf));
	cr_assert(strstr(buf, ", 10.0 MiB of 4.00 GiB, 10.0 MiB/s, 6 min 49 s left"), "%s", buf);
	rate_add(&r, 2000 * MS, 2560, total);	/* nothing for a second */
	cr_assert_float_eq(r.per_s, 2560 * 0.7, 1e-6);
}

Test(rate, a_count_going_back_starts_over)
{
	struct rate r = { 0 };

	rate_add(&r, 0, 1000, 2000);
	rate_add(&r, 500 * MS, 2000, 2000);
	cr_assert_gt(r.per_s, 0);
	rate_add(&r, 600 * MS, 10, 5000);
	cr_assert_eq(r.per_s, 0);
	cr_assert_eq(r.total, 5000);
}

Test(rate, done_says_no_time_left)
{
	struct rate r = { 0 };
	char buf[128];

	rate_add(&r, 0, 0, 256);
	rate_add(&r, 100 * MS, 256, 256);
	rate_format(&r, 4096, buf, sizeof(buf));
	cr_assert_str_eq(buf, ", 1.0 MiB of 1.0 MiB, 10.0 MiB/s");
}
