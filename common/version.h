/* ckpt's release, as ckptctl --version, ckptd --version and every
 * inventory.img say it. */
#ifndef CKPT_VERSION_H
#define CKPT_VERSION_H

#define CKPT_VERSION "0.1"

#endif
