"""The child-protection unit (NJMF) and its cases of children in need of protection."""
