/* daemon/mem-cow.c: which pagemap words say a page is its parent's frame. */
#include <criterion/criterion.h>

#include "daemon/mem-cow.h"

#define PRESENT	(1ull << 63)
#define SWAPPED	(1ull << 62)
#define EXCL	(1ull << 56)

Test(mem_cow, same_frame_is_shared)
{
	cr_assert(mm_cow_word_shared(PRESENT | 0x1234, PRESENT | 0x1234));
	/* the exclusive bit and soft-dirty do not change the frame */
	cr_assert(mm_cow_word_shared(PRESENT | (1ull << 55) | 0x1234, PRESENT | 0x1234));
}

Test(mem_cow, other_frame_or_absent_is_not)
{
	cr_assert_not(mm_cow_word_shared(PRESENT | 0x1234, PRESENT | 0x1235));
	cr_assert_not(mm_cow_word_shared(PRESENT | 0x1234, 0x1234));
	cr_assert_not(mm_cow_word_shared(0, 0));
	/* PFNs hidden (no CAP_SYS_ADMIN): every word reads PFN 0 */
	cr_assert_not(mm_cow_word_shared(PRESENT, PRESENT));
	/* swapped: the low bits are a swap entry, not a frame */
	cr_assert_not(mm_cow_word_shared(SWAPPED | 0x77, SWAPPED | 0x77));
	(void)EXCL;
}
