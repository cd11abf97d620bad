#include <hdf5.h>

/* libhdf5's H5F_ACC_RDONLY, H5T_NATIVE_FLOAT and friends are macros that call functions, which Swift cannot
   import; these inline functions expose them. */
static inline unsigned audionet_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline hid_t audionet_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t audionet_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t audionet_h5s_all(void) { return H5S_ALL; }
/* Turns off libhdf5's printing of its error stack: AudioNet reports one line itself. */
static inline void audionet_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
