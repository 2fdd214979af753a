# Sanitizers apply to every translation unit of the build, dependencies built
# here included, because mixing instrumented and plain code gives false reports.

if(GROVE_SANITIZE)
  set(grove_sanitize_flags -fsanitize=${GROVE_SANITIZE} -fno-omit-frame-pointer -g)
  if(GROVE_SANITIZE MATCHES "undefined")
    list(APPEND grove_sanitize_flags -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${grove_sanitize_flags})
  add_link_options(-fsanitize=${GROVE_SANITIZE})
endif()
