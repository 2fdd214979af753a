"""Conan 2 recipe for grove.

Packages the same CMake targets as `cmake --install`: grove::core (header-only)
and, unless core_only is set, grove::runtime, grove::adapters and grove::agents.
"""

from conan import ConanFile
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy


class GroveConan(ConanFile):
    name = "grove"
    version = "0.1.0"
    license = "MIT"
    description = "Multi-agent Monte Carlo Tree Search for C++20"
    topics = ("mcts", "monte-carlo-tree-search", "agents", "llm", "asio")
    settings = "os", "arch", "compiler", "build_type"
    options = {"core_only": [True, False], "fPIC": [True, False]}
    default_options = {"core_only": False, "fPIC": True}
    exports_sources = ("CMakeLists.txt", "cmake/*", "include/*", "src/*", "LICENSE")

    def requirements(self):
        self.requires("xxhash/0.8.2")
        if not self.options.core_only:
            self.requires("boost/1.83.0", transitive_headers=True)
            self.requires("nlohmann_json/3.11.3", transitive_headers=True)
            self.requires("spdlog/1.12.0", transitive_headers=True)
            self.requires("libcurl/8.6.0")
            self.requires("openssl/[>=3 <4]")
            self.requires("zlib/[>=1.2.11 <2]")
            self.requires("zstd/1.5.5")
            self.requires("hnswlib/0.8.0")

    def layout(self):
        cmake_layout(self)

    def generate(self):
        toolchain = CMakeToolchain(self)
        toolchain.variables["GROVE_CORE_ONLY"] = bool(self.options.core_only)
        toolchain.variables["GROVE_BUILD_TESTS"] = False
        toolchain.variables["GROVE_BUILD_EXAMPLES"] = False
        toolchain.variables["GROVE_BUILD_BENCH"] = False
        toolchain.generate()
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        copy(self, "LICENSE", self.source_folder, f"{self.package_folder}/licenses")
        CMake(self).install()

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "grove")
        self.cpp_info.set_property("pkg_config_name", "grove")

        core = self.cpp_info.components["core"]
        core.set_property("cmake_target_name", "grove::core")
        core.requires = ["xxhash::xxhash"]
        core.libs = []

        if self.options.core_only:
            return
        runtime = self.cpp_info.components["runtime"]
        runtime.set_property("cmake_target_name", "grove::runtime")
        runtime.libs = ["grove_runtime"]
        runtime.requires = ["core", "boost::headers", "spdlog::spdlog",
                            "nlohmann_json::nlohmann_json"]
        runtime.system_libs = ["pthread"]

        adapters = self.cpp_info.components["adapters"]
        adapters.set_property("cmake_target_name", "grove::adapters")
        adapters.libs = ["grove_adapters"]
        adapters.requires = ["runtime", "libcurl::libcurl", "openssl::openssl",
                             "zlib::zlib", "zstd::zstd", "hnswlib::hnswlib"]

        agents = self.cpp_info.components["agents"]
        agents.set_property("cmake_target_name", "grove::agents")
        agents.libs = ["grove_agents"]
        agents.requires = ["adapters"]
