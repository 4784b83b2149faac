"""`--precision auto` decided per device, for devices this machine has and has not."""

from train.precision import choose_precision, cpu_flags


def test_auto_precision_per_device_with_a_reason():
    assert choose_precision((8, 6), set())[0] == "mixed_float16"
    name, why = choose_precision((6, 1), set())
    assert name == "float32" and "no tensor cores" in why
    assert choose_precision(None, {"avx2", "avx512f", "avx512_bf16"})[0] == "mixed_bfloat16"
    assert choose_precision(None, {"avx2", "amx_bf16"})[0] == "mixed_bfloat16"
    name, why = choose_precision(None, {"avx2", "fma"})
    assert name == "float32" and "emulated" in why


def test_cpu_flags_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert cpu_flags(str(info)) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags(str(tmp_path / "missing")) == set()
    assert "sse2" in cpu_flags() or "asimd" in cpu_flags()  # this Linux machine's own /proc/cpuinfo
