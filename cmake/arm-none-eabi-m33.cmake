# CMake toolchain file: Cortex-M33 (Armv8-M Mainline, single-precision FPU), bare metal, Debian's
# gcc-arm-none-eabi + newlib. Used by the firmware project (firmware/CMakeLists.txt):
#
#   cmake -S firmware -B build-fw -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi-m33.cmake
#
# Code generation: -mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16 (the M33 FPU is
# single precision: double arithmetic is software, float is hardware). C++17 without exceptions,
# RTTI or thread-safe statics (no libstdc++ guard/unwinder code is linked). Every function and
# object gets its own section and the link drops the unused ones (--gc-sections).
#
# Optimization: the whole firmware at -Os; the firmware project compiles the kernels and the
# simulator's interpreter at NEUTRON_FW_KERNEL_OPT (-O2 by default), see firmware/CMakeLists.txt.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR cortex-m33)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_AR arm-none-eabi-ar CACHE FILEPATH "")
set(CMAKE_RANLIB arm-none-eabi-ranlib CACHE FILEPATH "")
set(CMAKE_OBJCOPY arm-none-eabi-objcopy CACHE FILEPATH "")
set(CMAKE_SIZE arm-none-eabi-size CACHE FILEPATH "")
# Compiler checks build a static library: there is no startup code to link an executable with.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(NEUTRON_M33_ARCH_FLAGS "-mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16")
set(NEUTRON_M33_COMMON_FLAGS "${NEUTRON_M33_ARCH_FLAGS} -ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_INIT "${NEUTRON_M33_COMMON_FLAGS}")
set(CMAKE_CXX_FLAGS_INIT
    "${NEUTRON_M33_COMMON_FLAGS} -fno-exceptions -fno-rtti -fno-threadsafe-statics")
set(CMAKE_ASM_FLAGS_INIT "${NEUTRON_M33_ARCH_FLAGS}")
# newlib-nano (smaller libc; nothing here uses printf-style float formatting). No crt0/crtbegin:
# the board supplies Reset_Handler and runs the static constructors itself.
set(CMAKE_EXE_LINKER_FLAGS_INIT "${NEUTRON_M33_ARCH_FLAGS} --specs=nano.specs -nostartfiles -Wl,--gc-sections")

# Cache entries, not *_INIT: CMake appends its own "-O3 -DNDEBUG" to the *_INIT values.
set(CMAKE_C_FLAGS_RELEASE "-Os -DNDEBUG" CACHE STRING "")
set(CMAKE_CXX_FLAGS_RELEASE "-Os -DNDEBUG" CACHE STRING "")

set(CMAKE_CXX_STANDARD 17 CACHE STRING "")
set(CMAKE_CXX_STANDARD_REQUIRED ON CACHE BOOL "")
set(CMAKE_CXX_EXTENSIONS OFF CACHE BOOL "")

# Never look for host programs' libraries or headers in the host's paths.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
